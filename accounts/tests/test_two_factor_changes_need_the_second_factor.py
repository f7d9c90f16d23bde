"""A session signed in with a password alone cannot change an enrolled account's second factor,
and a new authenticator signs the account out of every other browser."""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.services import totp_secret_base32
from accounts.tests.conftest import logged_in_client, make_user, verified_client
from accounts.tests.test_two_factor import current_code
from compliance.models import AuditEvent


def make_enrolled_staff() -> tuple[User, TOTPDevice]:
    staff = make_user("staff@example.com", staff=True)
    staff.is_superuser = True
    staff.save()
    return staff, TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)


def test_it_refuses_to_enrol_a_new_authenticator_without_the_second_factor(db):
    staff, victim_device = make_enrolled_staff()
    attacker = logged_in_client(staff)  # password only: the code was never entered

    response = attacker.post(reverse("accounts:two_factor"), {"action": "start"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:otp_verify"))
    assert list(TOTPDevice.objects.filter(user=staff)) == [victim_device]
    assert attacker.get("/admin/").status_code == 302


def test_it_refuses_to_confirm_an_enrolment_started_before_the_account_had_2fa(db):
    staff, victim_device = make_enrolled_staff()
    attacker = logged_in_client(staff)
    pending = TOTPDevice.objects.create(user=staff, name="Authenticator app", confirmed=False)

    response = attacker.post(
        reverse("accounts:two_factor"), {"action": "confirm", "code": current_code(pending)}
    )

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:otp_verify"))
    victim_device.refresh_from_db()
    assert victim_device.confirmed
    assert not TOTPDevice.objects.get(pk=pending.pk).confirmed
    assert not AuditEvent.objects.filter(action="account.2fa_enrolled").exists()
    assert attacker.get("/admin/").status_code == 302
    assert attacker.get("/api/v1/account/").status_code == 200  # still signed in, nothing more


def test_it_hides_a_pending_enrolment_key_from_a_session_without_the_second_factor(db):
    staff, _ = make_enrolled_staff()
    pending = TOTPDevice.objects.create(user=staff, name="Authenticator app", confirmed=False)
    attacker = logged_in_client(staff)

    page = attacker.get(reverse("accounts:two_factor")).content.decode()

    secret = totp_secret_base32(pending)
    assert "data:image/svg+xml" not in page
    assert secret not in page
    assert "Enter a code" in page


def test_it_refuses_to_replace_backup_codes_or_turn_2fa_off_without_the_second_factor(db):
    user = make_user("pat@example.com")
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    StaticDevice.objects.create(user=user, name="backup", confirmed=True)
    attacker = logged_in_client(user)

    for action in ("backup_codes", "disable"):
        response = attacker.post(reverse("accounts:two_factor"), {"action": action})
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:otp_verify"))

    assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    assert StaticDevice.objects.filter(user=user).exists()
    assert not AuditEvent.objects.filter(action="account.backup_codes_generated").exists()


def test_it_signs_other_browsers_out_when_a_new_authenticator_is_enrolled(db):
    staff, _ = make_enrolled_staff()
    other_person = make_user("pat@example.com")
    stale = logged_in_client(staff)
    bystander = logged_in_client(other_person)
    owner = verified_client(staff)

    owner.post(reverse("accounts:two_factor"), {"action": "start"})
    pending = TOTPDevice.objects.get(user=staff, confirmed=False)
    response = owner.post(
        reverse("accounts:two_factor"), {"action": "confirm", "code": current_code(pending)}
    )

    assert response.status_code == 200
    assert stale.get(reverse("accounts:home")).status_code == 302
    assert owner.get("/admin/").status_code == 200
    assert bystander.get(reverse("accounts:home")).status_code == 200
    assert Session.objects.count() == 2


def test_it_still_lets_an_account_without_2fa_enrol(db):
    user = make_user("pat@example.com")
    client: Client = logged_in_client(user)

    client.post(reverse("accounts:two_factor"), {"action": "start"})
    pending = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(
        reverse("accounts:two_factor"), {"action": "confirm", "code": current_code(pending)}
    )

    assert response.status_code == 200
    assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 1
