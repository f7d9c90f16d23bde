"""Two-factor authentication end to end: enrolment by QR code, log-in with TOTP, backup codes,
a wrong code, and the admin site's protection."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.tests.conftest import PASSWORD, make_user, verified_client
from compliance.models import AuditEvent


def current_code(device: TOTPDevice, offset_steps: int = 0) -> str:
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset_steps)
    return str(value).zfill(device.digits)


def enrol(client: Client, user) -> tuple[TOTPDevice, list[str]]:
    response = client.post(reverse("accounts:two_factor"), {"action": "start"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'src="data:image/svg+xml;base64,' in page  # QR code inline, no outside service
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(
        reverse("accounts:two_factor"), {"action": "confirm", "code": current_code(device)}
    )
    assert response.status_code == 200
    codes = re.findall(r"<code>([a-z0-9]{8})</code>", response.content.decode())
    device.refresh_from_db()
    assert device.confirmed
    return device, codes


def test_enrol_then_log_in_with_a_code(db):
    user = make_user("pat@example.com")
    client = Client()
    client.force_login(user)
    device, codes = enrol(client, user)
    assert len(codes) == 10
    assert AuditEvent.objects.filter(action="account.2fa_enrolled", object_id=str(user.pk)).exists()

    fresh = Client()
    response = fresh.post(reverse("accounts:login"), {"email": "pat@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:otp_verify")
    # Password alone does not sign in.
    assert fresh.get(reverse("accounts:home")).status_code == 302
    # The code the device used at enrolment cannot be replayed; wait for the next step's code.
    device.refresh_from_db()
    response = fresh.post(reverse("accounts:otp_verify"), {"code": current_code(device, offset_steps=1)})
    assert response.status_code == 302
    assert fresh.get(reverse("accounts:home")).status_code == 200
    assert AuditEvent.objects.filter(action="account.login", data__second_factor=True).exists()


def test_a_wrong_code_is_refused_and_counted(db):
    user = make_user("pat@example.com")
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client = Client()
    client.post(reverse("accounts:login"), {"email": "pat@example.com", "password": PASSWORD})
    response = client.post(reverse("accounts:otp_verify"), {"code": "000000"})
    assert response.status_code == 400
    assert "not right" in response.content.decode()
    assert client.get(reverse("accounts:home")).status_code == 302
    event = AuditEvent.objects.get(action="account.login_failed")
    assert event.data["stage"] == "second_factor"


def test_repeated_wrong_codes_lock_the_account(db, settings):
    settings.ACCOUNTS_LOGIN_MAX_FAILURES = 3
    user = make_user("pat@example.com")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client = Client()
    client.post(reverse("accounts:login"), {"email": "pat@example.com", "password": PASSWORD})
    for _ in range(3):
        client.post(reverse("accounts:otp_verify"), {"code": "000000"})
    response = client.post(reverse("accounts:otp_verify"), {"code": current_code(device)})
    assert response.status_code == 429


def test_a_backup_code_works_once(db):
    user = make_user("pat@example.com")
    client = Client()
    client.force_login(user)
    _device, codes = enrol(client, user)

    first = Client()
    first.post(reverse("accounts:login"), {"email": "pat@example.com", "password": PASSWORD})
    response = first.post(reverse("accounts:otp_verify"), {"code": codes[0].upper()})
    assert response.status_code == 302
    assert first.get(reverse("accounts:home")).status_code == 200
    assert AuditEvent.objects.filter(action="account.backup_code_used").count() == 1

    second = Client()
    second.post(reverse("accounts:login"), {"email": "pat@example.com", "password": PASSWORD})
    response = second.post(reverse("accounts:otp_verify"), {"code": codes[0]})
    assert response.status_code == 400
    # django-otp throttles a device for a growing delay after each failure.
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        response = second.post(reverse("accounts:otp_verify"), {"code": codes[1]})
    assert response.status_code == 302


def test_a_wrong_code_at_enrolment_keeps_2fa_off(db):
    user = make_user("pat@example.com")
    client = Client()
    client.force_login(user)
    client.post(reverse("accounts:two_factor"), {"action": "start"})
    response = client.post(reverse("accounts:two_factor"), {"action": "confirm", "code": "123456"})
    assert response.status_code == 400
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def test_admin_site_needs_a_second_factor(db):
    staff = make_user("staff@example.com", staff=True)
    staff.is_superuser = True
    staff.save()
    password_only = Client()
    password_only.force_login(staff)
    response = password_only.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]

    assert verified_client(staff).get("/admin/").status_code == 200


def test_admin_features_send_an_unenrolled_admin_to_set_up_2fa(team):
    client = Client()
    client.force_login(team.admin)
    response = client.get(reverse("accounts:org_dashboard", args=[team.organisation.slug]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:two_factor"))
    assert (
        verified_client(team.admin)
        .get(reverse("accounts:org_dashboard", args=[team.organisation.slug]))
        .status_code
        == 200
    )


def test_staff_cannot_turn_2fa_off(db):
    staff = make_user("staff@example.com", staff=True)
    client = verified_client(staff)
    response = client.post(reverse("accounts:two_factor"), {"action": "disable"})
    assert response.status_code == 400
    assert TOTPDevice.objects.filter(user=staff).exists()
