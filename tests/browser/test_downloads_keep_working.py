"""Downloads clicked long after the page loaded still save the portrait; "Download all" saves a ZIP;
an expired signed link opens a page that says what to do, never an HTML file under an image name."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from portraits import services
from tests.browser.a11y import check_accessibility, no_sideways_scroll, serve_axe
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.helpers import finished_job, open_job_path

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

LINK_SECONDS = 3


@pytest.fixture
def short_links(stack_env: dict[str, str]) -> int:
    """Signed links that expire in seconds, so a test can outlive them (asked for before web_server)."""
    stack_env["PROPORTRAIT_SIGNED_URL_SECONDS"] = str(LINK_SECONDS)
    return LINK_SECONDS


def test_downloads_clicked_after_links_would_expire_still_save_portraits(
    browser: Any, short_links: int, web_server: str, settings: Any, screenshot_dir: Path
) -> None:
    job = finished_job()
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    serve_axe(context)
    page = context.new_page()
    page.goto(web_server + open_job_path(job))
    page.wait_for_url(f"**/jobs/{job.id}/")
    check_accessibility(page, "results")
    time.sleep(short_links + 1)  # every signed link issued with the page is now dead

    with page.expect_download() as first:
        page.locator("#gallery a[download]").nth(2).click()
    download = first.value
    assert download.suggested_filename == "portrait-3-full.jpg"
    data = Path(download.path()).read_bytes()
    portrait = job.portraits.get(variant=2)
    assert Image.open(io.BytesIO(data)).size == (portrait.width, portrait.height)
    assert data == services.read_portrait_bytes(portrait, "full")

    with page.expect_download() as everything:
        page.click("#download-all")
    archive = zipfile.ZipFile(io.BytesIO(Path(everything.value.path()).read_bytes()))
    assert archive.namelist() == [f"portrait-{n}.jpg" for n in range(1, 5)]
    assert archive.testzip() is None

    # A signed link (as the API hands out) opened after it expired: a page, with the way back.
    signed = services.signed_portrait_url(portrait, "full")
    time.sleep(short_links + 1)
    response = page.goto(web_server + signed)
    assert response is not None and response.status == 410
    assert response.headers["content-type"].startswith("text/html")
    assert "content-disposition" not in response.headers
    assert page.locator("h1").inner_text() == "This download link has expired"
    check_accessibility(page, "expired link")
    page.screenshot(path=str(screenshot_dir / "link-expired-1280.png"))
    page.set_viewport_size(PHONE)
    assert no_sideways_scroll(page)
    page.screenshot(path=str(screenshot_dir / "link-expired-390.png"))
    page.click("text=Back to my portraits")
    page.wait_for_url(f"**/jobs/{job.id}/")
    context.close()


def test_the_lightbox_compares_portraits_at_full_size_by_keyboard(
    browser: Any, web_server: str, screenshot_dir: Path
) -> None:
    job = finished_job()
    context = browser.new_context(viewport=DESKTOP)
    serve_axe(context)
    page = context.new_page()
    page.goto(web_server + open_job_path(job))
    page.wait_for_url(f"**/jobs/{job.id}/")
    opener = page.locator("#gallery .lightbox-open").first
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#lightbox")
    dialog.wait_for(state="visible")
    assert page.locator("#lightbox-title").inner_text().startswith("Portrait 1 of 4")
    assert page.evaluate("() => document.activeElement.id") == "lightbox-close"
    first = job.portraits.get(variant=0)
    page.wait_for_function("() => document.getElementById('lightbox-image').naturalWidth > 0")
    assert page.evaluate("() => document.getElementById('lightbox-image').naturalWidth") == first.width
    check_accessibility(page, "lightbox open")
    page.screenshot(path=str(screenshot_dir / "lightbox-1280.png"))

    page.keyboard.press("ArrowRight")
    assert page.locator("#lightbox-title").inner_text().startswith("Portrait 2 of 4")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert page.locator("#lightbox-title").inner_text().startswith("Portrait 4 of 4")
    # Tab stays in the dialog (modal) and reaches Next.
    for _ in range(6):
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.getElementById('lightbox').contains(document.activeElement)")
    page.focus("#lightbox-next")
    page.keyboard.press("Enter")
    assert page.locator("#lightbox-title").inner_text().startswith("Portrait 1 of 4")
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(screenshot_dir / "lightbox-390.png"))
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    # Focus returns to the portrait that was shown last.
    assert page.evaluate("() => document.activeElement.getAttribute('data-number')") == "1"
    context.close()
