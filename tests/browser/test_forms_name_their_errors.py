"""Forms in a browser: every aria-describedby names an element that exists (hint and error ids match
Django's), error lists keep list semantics with an id, the consent box is marked invalid, the brand
link is named by its visible text. axe-core clean in every state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from accounts.tests.conftest import make_team
from tests.browser.a11y import check_accessibility, serve_axe
from tests.browser.conftest import DESKTOP
from tests.browser.helpers import session_cookie_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def described_by(page: Any, selector: str) -> list[str]:
    return (page.get_attribute(selector, "aria-describedby") or "").split()


def test_form_errors_are_linked_to_their_fields(browser: Any, web_server: str, screenshot_dir: Path) -> None:
    context = browser.new_context(viewport=DESKTOP)
    serve_axe(context)
    page = context.new_page()

    # Data-rights form (compliance): submitted empty.
    page.goto(web_server + "/privacy/requests/")
    check_accessibility(page, "data-rights form")
    page.click("button[type=submit]")
    assert page.locator("ul.errorlist").count() >= 1
    email_ids = described_by(page, "#id_email")
    assert "id_email_error" in email_ids
    assert page.locator("#id_email_error").inner_text().strip()
    assert page.get_attribute("#id_email", "aria-invalid") == "true"
    check_accessibility(page, "data-rights form with errors")
    page.screenshot(path=str(screenshot_dir / "dsar-errors-1280.png"), full_page=True)

    # Sign-up (accounts): a bad address and a short password.
    page.goto(web_server + "/accounts/signup/")
    page.fill("#id_email", "not-an-address")
    page.fill("#id_password", "short")
    page.click("button[type=submit]")
    assert "id_password_helptext" in described_by(page, "#id_password")
    assert page.locator("#id_password_helptext").is_visible()
    check_accessibility(page, "sign-up with errors")

    # The brand link's accessible name is its visible text.
    brand = page.get_by_role("link", name="ProPortrait AI", exact=True)
    assert brand.count() == 1
    assert " ".join(brand.inner_text().split()) == "ProPortrait AI"
    context.close()


def test_the_members_consent_box_is_marked_invalid(browser: Any, web_server: str) -> None:
    team = make_team("acme", "Acme")
    context = browser.new_context(viewport=DESKTOP)
    context.add_cookies([session_cookie_for(team.member, web_server)])
    serve_axe(context)
    page = context.new_page()
    page.goto(web_server + f"/accounts/teams/{team.organisation.slug}/")
    page.fill("#id_signature", "Mia Member")
    page.click("text=I consent")
    assert page.get_attribute("#id_consent", "aria-invalid") == "true"
    assert "id_consent_error" in described_by(page, "#id_consent")
    assert page.locator("#id_consent_error").inner_text().strip()
    check_accessibility(page, "member consent with an error")
    context.close()
