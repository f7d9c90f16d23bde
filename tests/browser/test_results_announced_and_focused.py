"""The results page, in a browser with a real worker: progress, then completion announced in a live
region that stays visible, focus on the results heading; axe-core clean in every state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests import photos
from tests.browser.a11y import check_accessibility, no_sideways_scroll, serve_axe
from tests.browser.conftest import DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_it_announces_completion_and_moves_focus_to_the_results(
    browser: Any, web_server: str, worker: Any, screenshot_dir: Path, tmp_path: Path
) -> None:
    selfie = tmp_path / "selfie.jpg"
    selfie.write_bytes(photos.face_jpeg())
    context = browser.new_context(viewport=DESKTOP)
    serve_axe(context)
    page = context.new_page()
    page.goto(web_server + "/try/")
    check_accessibility(page, "upload page")
    page.set_input_files("#id_photo", str(selfie))
    page.check("#id_consent")
    page.fill("#id_signature", "Jane Q. Example")
    page.click("#submit-upload")
    page.wait_for_url("**/jobs/*/")

    announcer = page.locator("#job-announcer")
    assert announcer.get_attribute("role") == "status"
    page.wait_for_function(
        "() => /Creating|Waiting/.test(document.getElementById('job-announcer').textContent)"
    )
    check_accessibility(page, "job in progress")
    page.screenshot(path=str(screenshot_dir / "job-progress-1280.png"))

    page.wait_for_function(
        "() => document.getElementById('job-announcer').textContent.startsWith('Done')", timeout=60_000
    )
    assert announcer.inner_text() == "Done: your 4 portraits are ready."
    assert announcer.is_visible()  # never inside a hidden panel
    assert page.evaluate("() => document.activeElement.id") == "results-heading"
    assert page.locator("#progress-panel").is_hidden()
    assert page.locator("#gallery li").count() == 4
    assert page.locator("#keep-longer").is_visible()  # offered once there is something to keep
    page.wait_for_function(
        "() => [...document.querySelectorAll('#gallery img')].every(i => i.naturalWidth > 0)"
    )
    check_accessibility(page, "job done")
    page.screenshot(path=str(screenshot_dir / "job-results-1280.png"), full_page=True)

    page.set_viewport_size(PHONE)
    assert no_sideways_scroll(page)
    page.screenshot(path=str(screenshot_dir / "job-results-390.png"), full_page=True)
    context.close()
