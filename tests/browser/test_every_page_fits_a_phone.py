"""Every page a person meets, at 1280 and 390 px, on a real gunicorn process: nothing scrolls
sideways, each page has exactly one top heading, and every link or button a keyboard reaches
shows a visible focus ring. With PROPORTRAIT_SAVE_SCREENSHOTS=1 the pages are written to
docs/screenshots/ (see docs/screenshots/README.md)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from accounts.models import Membership, Organisation, Role
from accounts.tests.conftest import make_user
from portraits.models import PortraitJob
from tests import photos
from tests.browser.a11y import no_sideways_scroll
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.helpers import finished_job, session_cookie_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

WIDTHS = ((DESKTOP, "1280"), (PHONE, "390"))
#: Full-page screenshots are cut at this height: the top of a long page is what a reader sees.
MAX_SCREENSHOT_HEIGHT_PX = 2400

PUBLIC_PAGES = (
    ("/", "landing"),
    ("/pricing/", "pricing-free"),
    ("/privacy/", "privacy-notice"),
    ("/privacy/audit/", "audit-checkpoint"),
    ("/privacy/verify-certificate/", "verify-certificate"),
    ("/legal/consumer-health-data/", "legal-consumer-health"),
    ("/legal/biometric-policy/", "legal-biometric-policy"),
    ("/legal/california/", "legal-california"),
    ("/legal/appeals/", "legal-appeals"),
    ("/privacy/requests/", "dsar-form"),
)

#: Every focusable link and button draws an outline or a box shadow when focused by keyboard.
FOCUS_RING_MISSING = """() => {
  const missing = [];
  const items = [...document.querySelectorAll('main a[href], main button, header a[href], header button')]
    .filter(e => e.offsetParent !== null).slice(0, 25);
  for (const item of items) {
    item.focus({focusVisible: true});
    if (document.activeElement !== item) continue;
    const style = getComputedStyle(item);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    const shadow = style.boxShadow && style.boxShadow !== 'none';
    if (!outline && !shadow) missing.push(item.outerHTML.slice(0, 80));
  }
  document.activeElement && document.activeElement.blur();
  return missing;
}"""


IMAGES_LOADED = (
    "() => [...document.querySelectorAll('#gallery img')].every(i => i.complete && i.naturalWidth > 0)"
)


def shoot(page: Any, folder: Path, name: str) -> None:
    """A full-page screenshot, cut to MAX_SCREENSHOT_HEIGHT_PX and reduced to 256 colours."""
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    with Image.open(path) as image:
        width, height = image.size
        cut = image.convert("RGB").crop((0, 0, width, min(height, MAX_SCREENSHOT_HEIGHT_PX)))
    cut.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def check_page(page: Any, label: str) -> None:
    assert no_sideways_scroll(page), label
    headings = page.locator("h1").count()
    assert headings == 1, f"{label}: {headings} top headings"
    missing = page.evaluate(FOCUS_RING_MISSING)
    assert not missing, f"{label}: no visible focus on {missing}"


def visit_at_both_widths(context: Any, url: str, name: str, folder: Path) -> Any:
    page = context.new_page()
    for viewport, width in WIDTHS:
        page.set_viewport_size(viewport)
        response = page.goto(url)
        assert response is not None and response.ok, (url, response and response.status)
        page.wait_for_load_state("networkidle")
        check_page(page, f"{name} at {width} px")
        shoot(page, folder, f"{name}-{width}")
    return page


def test_it_fits_every_public_page_at_both_widths(
    browser: Any, web_server: str, screenshot_dir: Path
) -> None:
    context = browser.new_context(viewport=DESKTOP)
    try:
        for path, name in PUBLIC_PAGES:
            visit_at_both_widths(context, web_server + path, name, screenshot_dir).close()

        # The data request form, sent: the page that says a code is on its way.
        page = context.new_page()
        for viewport, width in WIDTHS:
            page.set_viewport_size(viewport)
            page.goto(web_server + "/privacy/requests/")
            page.fill("#id_email", f"reader-{width}@example.com")
            page.check("input[name=request_type][value=access]")
            with page.expect_navigation():
                page.click("main button[type=submit]")
            assert re.search(r"/privacy/requests/[0-9a-f-]{36}/$", page.url), page.url
            check_page(page, f"request sent at {width} px")
            shoot(page, screenshot_dir, f"dsar-sent-{width}")
    finally:
        context.close()


def test_it_fits_the_upload_progress_results_and_receipt_pages(
    browser: Any, web_server: str, worker: Any, tmp_path: Path, screenshot_dir: Path
) -> None:
    photo = tmp_path / photos.UPLOAD_FILENAME
    photo.write_bytes(photos.face_jpeg())
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = visit_at_both_widths(context, web_server + "/try/", "upload-empty", screenshot_dir)
        for viewport, width in reversed(WIDTHS):  # ends at 1280 px, where the job is sent
            page.set_viewport_size(viewport)
            page.goto(web_server + "/try/")
            page.set_input_files("#id_photo", str(photo))
            page.locator("#crop-panel[data-state=automatic], #crop-panel[data-state=manual]").wait_for(
                timeout=90_000
            )
            check_page(page, f"upload with a photo at {width} px")
            shoot(page, screenshot_dir, f"upload-crop-preview-{width}")

        # Sent from this browser: the results page shows the private job reference to it.
        page.check("#id_consent")
        page.fill("#id_signature", "Jane Q. Example")
        with page.expect_navigation():
            page.click("#submit-upload")
        job_id = page.url.rstrip("/").rsplit("/", 1)[-1]
        page.locator("#status-text").wait_for()
        for viewport, width in WIDTHS:  # the worker holds the job for a few seconds
            page.set_viewport_size(viewport)
            check_page(page, f"progress at {width} px")
            shoot(page, screenshot_dir, f"progress-{width}")

        page.locator("#results-panel").wait_for(timeout=120_000)
        for viewport, width in WIDTHS:
            page.set_viewport_size(viewport)
            page.goto(web_server + f"/jobs/{job_id}/")
            page.locator("#results-panel").wait_for()
            page.wait_for_function(IMAGES_LOADED)
            page.locator("#original-state").wait_for()
            assert page.locator("#job-reference").is_visible(), "the job reference is missing"
            assert page.locator("#purchase-panel[data-purchase-status=free]").is_visible()
            check_page(page, f"results at {width} px")
            shoot(page, screenshot_dir, f"results-done-{width}")
            page.locator("#gallery .lightbox-open").first.click()
            page.locator("#lightbox").wait_for(state="visible")
            page.wait_for_function("() => document.getElementById('lightbox-image').naturalWidth > 0")
            assert no_sideways_scroll(page), f"lightbox at {width} px"
            page.screenshot(path=str(screenshot_dir / f"results-lightbox-{width}.png"))
            page.keyboard.press("Escape")

        with page.expect_navigation():
            page.click("#delete-now")
        with page.expect_navigation():
            page.click("#confirm-action")
        # The receipt's reference note speaks of a deleted job, not of portraits to claim.
        note = page.locator("#job-reference-panel").inner_text()
        assert "only way back to this job" in note and "claim them" not in note, note
        for viewport, width in WIDTHS:
            page.set_viewport_size(viewport)
            check_page(page, f"receipt at {width} px")
            shoot(page, screenshot_dir, f"receipt-{width}")
    finally:
        context.close()
    assert PortraitJob.objects.get(pk=job_id).portraits.count() == 0


def test_it_fits_the_account_security_and_organisation_pages(
    browser: Any, web_server: str, screenshot_dir: Path
) -> None:
    owner = make_user("olive@example.com", first_name="Olive")
    organisation = Organisation.objects.create(name="Acme Incorporated International", slug="acme", seats=5)
    Membership.objects.create(user=owner, organisation=organisation, role=Role.OWNER)
    job = finished_job()
    PortraitJob.objects.filter(pk=job.pk).update(owner=owner)
    context = browser.new_context(viewport=DESKTOP)
    context.add_cookies([session_cookie_for(owner, web_server, second_factor=True)])
    try:
        for path, name in (
            ("/accounts/", "account-home"),
            ("/accounts/security/", "two-factor"),
            ("/accounts/security/passkeys/", "passkeys-list"),
            ("/accounts/orgs/acme/", "org-dashboard"),
        ):
            visit_at_both_widths(context, web_server + path, name, screenshot_dir).close()
    finally:
        context.close()
