"""Passkeys end to end in Chromium with a virtual authenticator (DevTools protocol
`WebAuthn.enable` + `WebAuthn.addVirtualAuthenticator`), against a real gunicorn process opened
as http://localhost (a relying-party id cannot be an IP address; SITE_URL names the origin).

An organisation owner logs in with password and authenticator code, adds a passkey, names it,
logs out, logs in again with password and the passkey alone, reaches the organisation's admin
page, then removes the passkey. Every request stays on the machine; no CSP violation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from accounts.models import Membership, Organisation, Role
from accounts.tests.conftest import PASSWORD, make_user
from compliance.models import AuditEvent
from tests.browser.conftest import DESKTOP, PHONE, free_port, serve_gunicorn

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def localhost_server(stack_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """gunicorn on 127.0.0.1, its SITE_URL (and so the passkeys' relying party) http://localhost."""
    port = free_port()
    base_url = f"http://localhost:{port}"
    env = {**stack_env, "SITE_URL": base_url, "ALLOWED_HOSTS": "localhost"}
    with serve_gunicorn(env, port, base_url, tmp_path / "web.log") as served:
        yield served


class Watch:
    def __init__(self, context: Any) -> None:
        self.hosts: set[str] = set()
        self.console_errors: list[str] = []
        context.on("request", lambda request: self.hosts.add(urlparse(request.url).hostname or ""))
        context.on("page", lambda page: page.on("console", self._console))

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)


def code_for(device: TOTPDevice, drift: int = 0) -> str:
    return str(totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift)).zfill(
        6
    )


def log_in_with_password(page: Any, base_url: str, email: str) -> None:
    page.goto(base_url + "/accounts/login/")
    page.fill("#id_email", email)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    assert page.url.endswith("/accounts/login/code/"), page.url


def test_an_owner_adds_a_passkey_and_logs_in_with_it(
    browser: Any, localhost_server: str, screenshot_dir: Path
) -> None:
    owner = make_user("olive@example.com", first_name="Olive")
    organisation = Organisation.objects.create(name="Acme & Co", slug="acme", seats=5)
    Membership.objects.create(user=owner, organisation=organisation, role=Role.OWNER)
    device = TOTPDevice.objects.create(user=owner, name="Authenticator app", confirmed=True)

    context = browser.new_context(viewport=DESKTOP)
    watch = Watch(context)
    page = context.new_page()
    page.set_default_timeout(20_000)
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )["authenticatorId"]
    try:
        # 1. Password, then the authenticator app's code: the session has passed a second factor.
        log_in_with_password(page, localhost_server, owner.email)
        assert page.locator("#passkey-verification-button").count() == 0  # no passkey yet
        page.fill("#id_code", code_for(device))
        with page.expect_navigation():
            page.get_by_role("button", name="Continue").click()

        # 2. Add a passkey; the page reloads with it listed, then it gets a name.
        page.goto(localhost_server + "/accounts/security/passkeys/")
        page.get_by_role("button", name="Add a passkey").click()
        page.locator(".passkey").first.wait_for()
        credential = WebAuthnCredential.objects.get(user=owner)
        assert credential.confirmed
        stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
        assert len(stored) == 1 and stored[0]["rpId"] == "localhost"
        page.fill(f"#passkey-name-{credential.pk}", "Test laptop")
        with page.expect_navigation():
            page.get_by_role("button", name="Rename").click()
        assert page.locator(".passkey-name").inner_text() == "Test laptop"
        page.screenshot(path=str(screenshot_dir / "passkeys.png"), full_page=True)
        assert AuditEvent.objects.filter(action="account.passkey_added", object_id=str(owner.pk)).exists()

        # 3. Log out; log in with the password and the passkey alone (no code typed).
        page.goto(localhost_server + "/accounts/")
        with page.expect_navigation():
            page.get_by_role("button", name="Log out").click()
        log_in_with_password(page, localhost_server, owner.email)
        page.screenshot(path=str(screenshot_dir / "passkey-verify.png"), full_page=True)
        with page.expect_navigation():
            page.get_by_role("button", name="Use a passkey").click()
        assert page.url.endswith("/accounts/"), page.url

        # 4. The passkey counts as the second factor for the organisation's admin page.
        response = page.goto(localhost_server + "/accounts/orgs/acme/")
        assert response is not None and response.status == 200
        assert page.url.endswith("/accounts/orgs/acme/")
        credential.refresh_from_db()
        assert credential.last_used_at is not None
        assert (
            AuditEvent.objects.filter(
                action="account.login", object_id=str(owner.pk), data__second_factor=True
            ).count()
            == 2
        )

        # 5. Remove it: it can no longer be used.
        page.goto(localhost_server + "/accounts/security/passkeys/")
        with page.expect_navigation():
            page.get_by_role("button", name="Remove passkey Test laptop").click()
        assert not WebAuthnCredential.objects.filter(user=owner).exists()
        # This session was verified with that passkey, so it must prove a second factor again.
        assert "/accounts/login/code/" in page.url
        assert "enter a code from your authenticator app" in page.content()
        page.fill("#id_code", code_for(device, drift=1))
        with page.expect_navigation():
            page.get_by_role("button", name="Continue").click()
        assert "You have no passkeys yet." in page.content()
        assert AuditEvent.objects.filter(action="account.passkey_removed", object_id=str(owner.pk)).exists()
    finally:
        context.close()
    assert watch.hosts == {"localhost"}, watch.hosts
    csp = [text for text in watch.console_errors if "Content Security Policy" in text]
    assert not csp, csp

    # The page on a phone (looked at, not only tested).
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        phone_page = phone.new_page()
        log_in_with_password(phone_page, localhost_server, owner.email)
        # A second authenticator, so that no code of the first one is replayed.
        spare = TOTPDevice.objects.create(user=owner, name="Spare phone", confirmed=True)
        phone_page.fill("#id_code", code_for(spare))
        with phone_page.expect_navigation():
            phone_page.get_by_role("button", name="Continue").click()
        phone_page.goto(localhost_server + "/accounts/security/passkeys/")
        phone_page.screenshot(path=str(screenshot_dir / "passkeys-phone.png"), full_page=True)
        overflow = phone_page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
    finally:
        phone.close()
