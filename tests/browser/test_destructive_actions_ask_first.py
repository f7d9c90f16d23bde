"""Delete now, Withdraw and Remove member ask for confirmation on a page of their own, without
JavaScript; cancelling changes nothing. axe-core clean on each page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from accounts.models import Membership
from accounts.tests.conftest import make_team
from portraits.models import JobStatus
from tests.browser.a11y import check_accessibility, no_sideways_scroll, serve_axe
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.helpers import finished_job, open_job_path, session_cookie_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def check_pages(browser: Any, cookies: list[dict[str, Any]], urls: list[str], label: str) -> None:
    """axe needs script: the same pages (GETs change nothing) in a scripted context."""
    scripted = browser.new_context(viewport=DESKTOP)
    scripted.add_cookies(cookies)
    serve_axe(scripted)
    page = scripted.new_page()
    for url in urls:
        page.goto(url)
        check_accessibility(page, f"{label}: {url}")
        page.set_viewport_size(PHONE)
        assert no_sideways_scroll(page), url
        page.set_viewport_size(DESKTOP)
    scripted.close()


def test_delete_now_and_withdraw_ask_first_without_javascript(
    browser: Any, web_server: str, screenshot_dir: Path
) -> None:
    job = finished_job()
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    page = context.new_page()
    page.goto(web_server + open_job_path(job))
    page.wait_for_url(f"**/jobs/{job.id}/")

    page.click("#withdraw-consent")
    assert page.locator("h1").inner_text() == "Withdraw your consent?"
    withdraw_url = page.url
    page.click("#cancel-action")
    page.wait_for_url(f"**/jobs/{job.id}/")
    page.click("#delete-now")
    assert page.locator("h1").inner_text() == "Delete your portraits now?"
    delete_url = page.url
    page.screenshot(path=str(screenshot_dir / "confirm-delete-1280.png"))
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.portraits.count() == 4

    check_pages(
        browser, context.cookies(), [withdraw_url, delete_url, web_server + f"/jobs/{job.id}/"], "confirm"
    )

    page.click("#confirm-action")
    assert page.locator("h1").inner_text() == "Everything is deleted"
    job.refresh_from_db()
    assert job.status == JobStatus.DELETED and job.portraits.count() == 0
    page.goto(web_server + f"/jobs/{job.id}/")
    assert page.locator("#keep-longer").count() == 0 and page.locator("#delete-now").count() == 0
    context.close()


def test_remove_member_asks_first_without_javascript(
    browser: Any, web_server: str, screenshot_dir: Path
) -> None:
    team = make_team("acme", "Acme")
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    cookies = [session_cookie_for(team.owner, web_server, second_factor=True)]
    context.add_cookies(cookies)
    page = context.new_page()
    page.goto(web_server + f"/accounts/orgs/{team.organisation.slug}/")
    # No reminder for the owner themself; one for the member.
    rows = page.locator("tbody tr")
    owner_row = rows.filter(has_text=team.owner.email)
    member_row = rows.filter(has_text=team.member.email)
    assert owner_row.get_by_role("button", name="Remind").count() == 0
    assert member_row.get_by_role("button", name="Remind").count() == 1

    member_row.get_by_role("link", name="Remove").click()
    assert page.locator("h1").inner_text().startswith("Remove Mia")
    confirm_url = page.url
    page.screenshot(path=str(screenshot_dir / "confirm-remove-member-1280.png"))
    page.click("#cancel-action")
    assert Membership.objects.filter(pk=team.member_membership.pk).exists()
    check_pages(
        browser, cookies, [confirm_url, web_server + f"/accounts/orgs/{team.organisation.slug}/"], "team"
    )

    page.goto(confirm_url)
    page.click("#confirm-action")
    assert "Member removed" in page.locator(".messages").inner_text()
    assert not Membership.objects.filter(pk=team.member_membership.pk).exists()
    context.close()
