"""The account page shows the retention that was saved and asks before deleting; an invitation
fills in the invited address on sign-up. axe-core clean in every state."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core import mail

from accounts import teams
from accounts.tests.conftest import make_team, make_user
from portraits.models import PortraitJob
from tests.browser.a11y import check_accessibility, no_sideways_scroll, serve_axe
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.helpers import finished_job, session_cookie_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_account_page_keeps_the_saved_retention(
    browser: Any, web_server: str, screenshot_dir: Path
) -> None:
    user = make_user("kim@example.com", first_name="Kim")
    job = finished_job()
    PortraitJob.objects.filter(pk=job.pk).update(owner=user)
    context = browser.new_context(viewport=DESKTOP)
    context.add_cookies([session_cookie_for(user, web_server)])
    serve_axe(context)
    page = context.new_page()
    page.goto(web_server + "/accounts/")
    select = f"#days-{job.id}"
    page.select_option(select, "30")
    page.click(f"form:has({select}) button")
    page.wait_for_selector(".messages")
    assert page.input_value(select) == "30"
    page.reload()
    assert page.input_value(select) == "30"
    check_accessibility(page, "account page")
    page.screenshot(path=str(screenshot_dir / "account-1280.png"), full_page=True)
    page.set_viewport_size(PHONE)
    assert no_sideways_scroll(page)
    page.get_by_role("link", name=re.compile("^Delete now")).first.click()
    assert page.locator("h1").inner_text() == "Delete your portraits now?"
    check_accessibility(page, "account: confirm delete")
    context.close()


def test_an_invitation_fills_in_the_invited_address(browser: Any, web_server: str) -> None:
    team = make_team("acme", "Acme")
    teams.invite_member(team.organisation, email="new.person@example.com", invited_by=team.owner)
    assert mail.outbox, "the invitation was not sent"  # autocommit: sent at once
    found = re.search(r"https?://[^/\s]+(/\S+)", str(mail.outbox[-1].body))
    assert found is not None
    context = browser.new_context(viewport=PHONE)
    serve_axe(context)
    page = context.new_page()
    page.goto(web_server + found.group(1))
    check_accessibility(page, "invitation")
    page.get_by_role("link", name="Create an account").click()
    assert page.input_value("#id_email") == "new.person@example.com"
    check_accessibility(page, "sign-up from an invitation")
    assert no_sideways_scroll(page)
    context.close()
