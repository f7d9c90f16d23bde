"""Passkeys: a second factor that counts wherever 2FA is required, never a first factor, added
only from a session that passed a second factor, named and removed by their owner only. The
relying party comes from SITE_URL. (The real WebAuthn ceremony runs in
tests/browser/test_passkey_second_factor.py with Chromium's virtual authenticator.)"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp_webauthn.models import WebAuthnCredential

from accounts.models import User
from accounts.tests.conftest import PASSWORD, Team, logged_in_client, make_user, verified_client
from compliance.models import AuditEvent

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parent.parent.parent
BEGIN_REGISTRATION = "/accounts/passkeys/registration/begin/"
BEGIN_AUTHENTICATION = "/accounts/passkeys/authentication/begin/"


@pytest.fixture(autouse=True)
def _passkeys_on(settings: Any) -> None:
    settings.PROPORTRAIT_PASSKEYS_ENABLED = True
    settings.OTP_WEBAUTHN_RP_ID = "testserver"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = ["https://testserver"]


def add_passkey(user: User, name: str = "Laptop") -> WebAuthnCredential:
    """A stored credential, as the registration ceremony would leave it."""
    credential_id = os.urandom(32)
    return WebAuthnCredential.objects.create(
        user=user,
        name=name,
        confirmed=True,
        credential_id=credential_id,
        credential_id_sha256=WebAuthnCredential.get_credential_id_sha256(credential_id),
        public_key=os.urandom(77),
        sign_count=0,
    )


def passkey_client(user: User, credential: WebAuthnCredential) -> Client:
    """Logged in, second factor passed with the passkey (what a completed ceremony leaves)."""
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = credential.persistent_id
    session.save()
    return client


# --- Relying party from SITE_URL


def settings_for(site_url: str, tmp_path: Path) -> dict[str, Any]:
    env = {
        **{key: value for key, value in os.environ.items() if key not in {"SITE_URL"}},
        "SITE_URL": site_url,
        "PROPORTRAIT_VAR_DIR": str(tmp_path),
        "SECRET_KEY": "settings-test",
        "PROPORTRAIT_MASTER_KEYS": "k:" + base64.b64encode(b"k" * 32).decode(),
    }
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({n: getattr(s, n) for n in ['OTP_WEBAUTHN_RP_ID', 'OTP_WEBAUTHN_ALLOWED_ORIGINS', "
        "'OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN', 'PROPORTRAIT_PASSKEYS_ENABLED']}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    values: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return values


def test_it_takes_the_relying_party_and_the_only_origin_from_site_url(tmp_path: Path) -> None:
    assert settings_for("https://headshots.example.com/", tmp_path) == {
        "OTP_WEBAUTHN_RP_ID": "headshots.example.com",
        "OTP_WEBAUTHN_ALLOWED_ORIGINS": ["https://headshots.example.com"],
        "OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN": False,
        "PROPORTRAIT_PASSKEYS_ENABLED": True,
    }
    local = settings_for("http://localhost:8000", tmp_path)
    assert local["OTP_WEBAUTHN_RP_ID"] == "localhost"
    assert local["OTP_WEBAUTHN_ALLOWED_ORIGINS"] == ["http://localhost:8000"]
    # A relying-party id cannot be an IP address, and browsers refuse plain http elsewhere.
    for unusable in ["http://127.0.0.1:8000", "http://headshots.example.com"]:
        values = settings_for(unusable, tmp_path)
        assert values["PROPORTRAIT_PASSKEYS_ENABLED"] is False
        assert values["OTP_WEBAUTHN_ALLOWED_ORIGINS"] == []


def test_it_turns_passkeys_off_and_says_why_when_the_site_cannot_use_them(settings: Any) -> None:
    settings.PROPORTRAIT_PASSKEYS_ENABLED = False
    user = make_user("pat@example.com")
    client = verified_client(user)
    page = client.get(reverse("accounts:passkeys"))
    assert page.status_code == 200
    assert "served over https://" in page.content.decode()
    assert "passkey-register-button" not in page.content.decode()
    response = client.post(BEGIN_REGISTRATION)
    assert response.status_code == 403 and response.json()["code"] == "passkeys_off"


# --- Adding one needs a passed second factor


def test_it_refuses_to_add_a_passkey_from_a_password_only_session() -> None:
    without_any = make_user("new@example.com")  # the library alone would let this one register
    response = logged_in_client(without_any).post(BEGIN_REGISTRATION)
    assert response.status_code == 403
    assert response.json()["code"] == "second_factor_required"

    enrolled = make_user("enrolled@example.com")
    verified_client(enrolled)  # gives the account a confirmed authenticator
    response = logged_in_client(enrolled).post(BEGIN_REGISTRATION)
    assert response.status_code == 403
    assert response.json()["code"] == "user_not_verified"  # the library's own check, kept
    assert Client().post(BEGIN_REGISTRATION).status_code != 200  # nobody signed in


def test_it_starts_registration_for_a_verified_session_with_this_relying_party() -> None:
    user = make_user("pat@example.com")
    response = verified_client(user).post(BEGIN_REGISTRATION)
    assert response.status_code == 200
    options = response.json()
    assert options["rp"] == {"id": "testserver", "name": "ProPortrait"}
    assert options["user"]["name"] == "pat@example.com"


def test_the_passkeys_page_needs_a_passed_second_factor() -> None:
    user = make_user("pat@example.com")
    verified_client(user)
    response = logged_in_client(user).get(reverse("accounts:passkeys"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:otp_verify"))
    assert Client().get(reverse("accounts:passkeys")).status_code == 302


# --- Never a first factor


def test_it_refuses_passwordless_log_in() -> None:
    user = make_user("pat@example.com")
    add_passkey(user)
    response = Client().post(BEGIN_AUTHENTICATION)
    assert response.status_code == 403
    assert response.json()["code"] == "passwordless_login_disabled"


def test_it_offers_the_passkey_only_after_the_password() -> None:
    user = make_user("pat@example.com")
    verified_client(user)
    add_passkey(user)
    client = Client()
    assert "passkey-verification-button" not in client.get(reverse("accounts:login")).content.decode()
    response = client.post(reverse("accounts:login"), {"email": user.email, "password": PASSWORD})
    assert response["Location"] == reverse("accounts:otp_verify")
    page = client.get(reverse("accounts:otp_verify")).content.decode()
    assert "passkey-verification-button" in page
    # The ceremony may begin, for this account's passkeys only; nobody is signed in yet.
    options = client.post(BEGIN_AUTHENTICATION).json()
    credential_id = WebAuthnCredential.objects.get(user=user).credential_id
    expected = base64.urlsafe_b64encode(bytes(credential_id)).decode().rstrip("=")
    assert [item["id"] for item in options["allowCredentials"]] == [expected]
    assert options["rpId"] == "testserver"
    assert client.get(reverse("accounts:home")).status_code == 302


def test_a_failed_passkey_assertion_counts_towards_the_lock_out(settings: Any) -> None:
    user = make_user("pat@example.com")
    verified_client(user)
    add_passkey(user)
    client = Client()
    client.post(reverse("accounts:login"), {"email": user.email, "password": PASSWORD})
    for _ in range(settings.ACCOUNTS_LOGIN_MAX_FAILURES):
        client.post(BEGIN_AUTHENTICATION)
        bogus = {"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {}}
        response = client.post(
            "/accounts/passkeys/authentication/complete/", json.dumps(bogus), content_type="application/json"
        )
        assert response.status_code >= 400
    response = client.post(BEGIN_AUTHENTICATION)
    assert response.status_code == 429 and response.json()["code"] == "locked"
    assert AuditEvent.objects.filter(action="account.login_failed", data__stage="passkey").exists()
    assert client.get(reverse("accounts:home")).status_code == 302


# --- Counts as 2FA wherever it is required


def test_a_passkey_session_counts_as_two_factor_for_admin_pages(team: Team) -> None:
    verified_client(team.owner)  # the authenticator enrolled first, as the page requires
    credential = add_passkey(team.owner)
    client = passkey_client(team.owner, credential)
    dashboard = reverse("accounts:org_dashboard", args=[team.organisation.slug])
    assert client.get(dashboard).status_code == 200
    # The same person with only a password is sent to the second factor.
    assert logged_in_client(team.owner).get(dashboard).status_code == 302


def test_a_passkey_session_opens_the_admin_site_for_staff() -> None:
    staff = User.objects.create_superuser(username="staff", email="staff@example.com", password="x" * 12)
    verified_client(staff)
    credential = add_passkey(staff)
    response = passkey_client(staff, credential).get("/admin/")
    assert response.status_code == 200
    assert b"site administration" in response.content.lower()
    response = logged_in_client(staff).get("/admin/", follow=True)
    assert b"site administration" not in response.content.lower()


# --- Naming and removing


def test_it_names_and_removes_a_passkey_and_audits_the_removal() -> None:
    user = make_user("pat@example.com")
    client = verified_client(user)
    credential = add_passkey(user, "Chrome on pat's laptop")
    page = client.get(reverse("accounts:passkeys")).content.decode()
    assert "Chrome on pat&#x27;s laptop" in page

    response = client.post(
        reverse("accounts:passkey_rename", args=[credential.pk]), {"name": "  Work   laptop "}
    )
    assert response.status_code == 302
    credential.refresh_from_db()
    assert credential.name == "Work laptop"
    response = client.post(reverse("accounts:passkey_rename", args=[credential.pk]), {"name": "   "})
    credential.refresh_from_db()
    assert credential.name == "Work laptop"

    assert client.post(reverse("accounts:passkey_remove", args=[credential.pk])).status_code == 302
    assert not WebAuthnCredential.objects.filter(pk=credential.pk).exists()
    assert AuditEvent.objects.filter(action="account.passkey_removed", object_id=str(user.pk)).exists()


def test_it_refuses_to_touch_someone_elses_passkey() -> None:
    owner = make_user("owner@example.com")
    credential = add_passkey(owner, "Owner's key")
    intruder = verified_client(make_user("intruder@example.com"))
    assert (
        intruder.post(reverse("accounts:passkey_rename", args=[credential.pk]), {"name": "x"}).status_code
        == 404
    )
    assert intruder.post(reverse("accounts:passkey_remove", args=[credential.pk])).status_code == 404
    credential.refresh_from_db()
    assert credential.name == "Owner's key"


def test_turning_two_factor_off_removes_the_passkeys_too() -> None:
    user = make_user("pat@example.com")
    client = verified_client(user)
    add_passkey(user)
    response = client.post(reverse("accounts:two_factor"), {"action": "disable"})
    assert response.status_code == 302
    assert not WebAuthnCredential.objects.filter(user=user).exists()
