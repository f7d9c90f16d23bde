"""Team pages in a browser: the member page updates itself while generating, the portrait picker
stays inside its cards, and the dashboard, tokens page and CSV report never scroll sideways, at 1280
and 390 px. axe-core clean in every state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from accounts import teams
from accounts.tests.conftest import consent_act, face_bytes, make_team
from portraits.services import ClientInfo
from tests.browser.a11y import check_accessibility, no_sideways_scroll, serve_axe
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.helpers import session_cookie_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PICKER_FITS = """() => [...document.querySelectorAll('.portrait-option')].every(card => {
  const box = card.getBoundingClientRect();
  const img = card.querySelector('img').getBoundingClientRect();
  return img.width > 40 && img.left >= box.left - 0.5 && img.right <= box.right + 0.5;
})"""


def test_the_member_page_updates_itself_and_the_picker_fits(
    browser: Any, web_server: str, worker: Any, screenshot_dir: Path
) -> None:
    team = make_team("acme", "Acme")
    teams.give_member_consent(team.member_membership, consent_act())
    context = browser.new_context(viewport=DESKTOP)
    context.add_cookies([session_cookie_for(team.member, web_server)])
    serve_axe(context)
    page = context.new_page()
    teams.start_member_job(team.member_membership, photo=face_bytes(), client=ClientInfo(ip="127.0.0.1"))
    page.goto(web_server + f"/accounts/teams/{team.organisation.slug}/")
    assert "This page updates by itself" in page.locator("#member-generating").inner_text()
    check_accessibility(page, "member page, generating")
    # No refresh by hand: the page reloads itself when the worker is done.
    page.wait_for_selector("#pick-heading", timeout=90_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.portrait-choice')].every(i => i.naturalWidth > 0)"
    )
    for viewport, name in ((DESKTOP, "1280"), (PHONE, "390")):
        page.set_viewport_size(viewport)
        assert page.evaluate(PICKER_FITS), f"portrait picker overflows its cards at {name} px"
        assert no_sideways_scroll(page), name
        page.screenshot(path=str(screenshot_dir / f"team-member-pick-{name}.png"), full_page=True)
    check_accessibility(page, "member page, pick a portrait")
    context.close()


def test_admin_pages_do_not_scroll_sideways_on_a_phone(
    browser: Any, web_server: str, screenshot_dir: Path
) -> None:
    team = make_team("acme", "Acme Incorporated International")
    context = browser.new_context(viewport=PHONE)
    context.add_cookies([session_cookie_for(team.owner, web_server, second_factor=True)])
    serve_axe(context)
    page = context.new_page()
    slug = team.organisation.slug

    page.goto(web_server + f"/accounts/orgs/{slug}/")
    assert no_sideways_scroll(page), "dashboard"
    check_accessibility(page, "dashboard")
    page.screenshot(path=str(screenshot_dir / "team-dashboard-390.png"), full_page=True)

    page.goto(web_server + f"/accounts/orgs/{slug}/tokens/")
    page.fill("#id_name", "HR system")
    page.click("text=Create token")
    page.wait_for_selector("code.token-value")
    assert no_sideways_scroll(page), "tokens page"
    check_accessibility(page, "tokens page with a new token")
    page.screenshot(path=str(screenshot_dir / "team-tokens-390.png"), full_page=True)

    page.goto(web_server + f"/accounts/orgs/{slug}/")
    rows = "email,role\n" + "".join(
        f"person.with.a.long.address.{n}@example-company.example,member\n" for n in range(3)
    )
    rows += "not-an-address,member\n"
    page.set_input_files(
        "input[type=file]", {"name": "people.csv", "mimeType": "text/csv", "buffer": rows.encode()}
    )
    page.click("text=Upload and invite")
    page.wait_for_selector("h1:has-text('Invitations from your CSV')")
    assert no_sideways_scroll(page), "CSV report"
    check_accessibility(page, "CSV report")
    page.screenshot(path=str(screenshot_dir / "team-csv-report-390.png"), full_page=True)
    context.close()
