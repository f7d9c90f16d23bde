"""'E-mail me a link to my results' in a browser: a wrong address is refused next to the field, a
right one is stored until the results go, and the page says so. axe-core clean in every state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from portraits.models import ResultsEmail
from tests.browser.a11y import check_accessibility, no_sideways_scroll, serve_axe
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.helpers import finished_job, open_job_path

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_it_mails_a_link_and_says_how_long_the_address_is_kept(
    browser: Any, web_server: str, screenshot_dir: Path
) -> None:
    job = finished_job()
    context = browser.new_context(viewport=DESKTOP)
    serve_axe(context)
    page = context.new_page()
    page.goto(web_server + open_job_path(job))
    page.wait_for_url(f"**/jobs/{job.id}/")
    keeping = page.locator("#email-keeping").inner_text()
    assert "We keep your address only until your portraits are deleted" in keeping
    assert job.expires_at.strftime("%-d %B %Y") in keeping

    page.fill("#id_email", "not-an-address")
    page.click("#email-submit")
    assert page.get_attribute("#id_email", "aria-invalid") == "true"
    assert page.locator("#id_email_error").is_visible()
    check_accessibility(page, "results e-mail, wrong address")
    # The wrong address changed nothing: only the address the link came through is stored.
    assert list(ResultsEmail.objects.values_list("address", "sends")) == [("holder@example.com", 1)]

    page.fill("#id_email", "jane@example.com")
    page.click("#email-submit")
    page.wait_for_selector("#email-sent")
    assert "jane@example.com" in page.locator("#email-sent").inner_text()
    assert "We have e-mailed you a link" in page.locator(".messages").inner_text()
    assert ResultsEmail.objects.get(job=job).address == "jane@example.com"
    check_accessibility(page, "results e-mail sent")
    page.locator("#email-results").screenshot(path=str(screenshot_dir / "results-email-1280.png"))
    page.set_viewport_size(PHONE)
    assert no_sideways_scroll(page)
    page.locator("#email-results").screenshot(path=str(screenshot_dir / "results-email-390.png"))

    # Deleting the results erases the address with them.
    page.click("#delete-now")
    page.click("#confirm-action")
    assert page.locator("h1").inner_text() == "Everything is deleted"
    assert not ResultsEmail.objects.exists()
    context.close()
