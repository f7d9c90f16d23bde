"""The upload page checks type, size, tick and name before sending, with the server's own words,
next to each field, focus on the first; a refused upload keeps the photo (with JavaScript) or the
tick, name and style (without). axe-core clean in every state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gpu_worker.errors import DEFAULT_MESSAGES, ErrorCode
from portraits.models import PortraitJob
from tests import photos
from tests.browser.a11y import check_accessibility, no_sideways_scroll, serve_axe
from tests.browser.conftest import DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

LIMIT_BYTES = 1024 * 1024
OVERSIZE = {
    "name": "big.jpg",
    "mimeType": "image/jpeg",
    "buffer": b"\xff\xd8\xff" + b"0" * (LIMIT_BYTES + 50_000),
}
NOT_A_PHOTO = {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"}


@pytest.fixture
def one_megabyte_limit(stack_env: dict[str, str]) -> int:
    stack_env["PROPORTRAIT_MAX_UPLOAD_BYTES"] = str(LIMIT_BYTES)
    return LIMIT_BYTES


def error_text(page: Any, field: str) -> str:
    return str(page.locator(f"#id_{field}_error").inner_text()).strip()


def focused(page: Any) -> str:
    return str(page.evaluate("() => document.activeElement.id"))


def test_it_checks_in_the_browser_with_the_servers_words(
    browser: Any, one_megabyte_limit: int, web_server: str, screenshot_dir: Path
) -> None:
    # What the server says for each mistake, seen without JavaScript.
    plain = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    server_page = plain.new_page()
    server_page.goto(web_server + "/try/")
    server_page.check("#id_consent")
    server_page.fill("#id_signature", "Jane Q. Example")
    server_page.set_input_files("#id_photo", OVERSIZE)
    server_page.click("#submit-upload")
    server_oversize = error_text(server_page, "photo")
    assert server_oversize.startswith("This photo is larger than 1 MB, the most we accept.")
    server_page.check("#id_consent")
    server_page.set_input_files("#id_photo", NOT_A_PHOTO)
    server_page.click("#submit-upload")
    server_type = error_text(server_page, "photo")
    server_page.set_input_files(
        "#id_photo", {"name": "me.jpg", "mimeType": "image/jpeg", "buffer": photos.face_jpeg()}
    )
    server_page.uncheck("#id_consent")
    server_page.click("#submit-upload")
    server_consent = error_text(server_page, "consent")
    plain.close()
    assert server_type == DEFAULT_MESSAGES[ErrorCode.UNSUPPORTED_FORMAT]

    context = browser.new_context(viewport=DESKTOP)
    serve_axe(context)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.method) if request.method == "POST" else None)
    page.goto(web_server + "/try/")

    page.click("#submit-upload")  # nothing filled in
    assert error_text(page, "photo") == "Please choose a photo to upload."
    assert error_text(page, "consent") == server_consent
    assert error_text(page, "signature") == "Please type your full name as your signature."
    assert focused(page) == "id_photo"
    assert page.get_attribute("#id_consent", "aria-invalid") == "true"
    assert "id_consent_error" in (page.get_attribute("#id_consent", "aria-describedby") or "")
    check_accessibility(page, "upload page, three errors before sending")
    page.screenshot(path=str(screenshot_dir / "upload-checks-1280.png"), full_page=True)

    page.set_input_files("#id_photo", NOT_A_PHOTO)
    assert error_text(page, "photo") == server_type
    page.set_input_files("#id_photo", OVERSIZE)
    assert error_text(page, "photo") == server_oversize
    page.check("#id_consent")
    page.fill("#id_signature", "Jane Q. Example")
    page.click("#submit-upload")
    assert focused(page) == "id_photo" and error_text(page, "photo") == server_oversize
    assert page.locator("#id_consent_error").is_hidden() and page.locator("#id_signature_error").is_hidden()
    check_accessibility(page, "upload page, oversize photo")
    page.set_viewport_size(PHONE)
    assert no_sideways_scroll(page)
    page.screenshot(path=str(screenshot_dir / "upload-checks-390.png"), full_page=True)
    assert requests == []  # none of this was sent
    context.close()
    assert not PortraitJob.objects.exists()


def test_a_refused_upload_keeps_the_chosen_photo_and_resends_it(
    browser: Any, web_server: str, screenshot_dir: Path
) -> None:
    context = browser.new_context(viewport=DESKTOP)
    serve_axe(context)
    page = context.new_page()
    page.goto(web_server + "/try/")
    page.set_input_files(
        "#id_photo", {"name": "me.jpg", "mimeType": "image/jpeg", "buffer": photos.face_jpeg()}
    )
    page.check("#style-warm-office")
    page.check("#id_consent")
    page.fill("#id_signature", "Jane Q. Example")
    # The notice changes while the page is open: the server refuses, only the server can know.
    current = page.get_attribute("input[name=consent_version]", "value")
    page.evaluate("() => { document.querySelector('input[name=consent_version]').value = '999'; }")
    page.click("#submit-upload")
    page.wait_for_selector("#id_consent_error:not(.hidden)")
    assert "notice has changed" in error_text(page, "consent")
    assert focused(page) == "id_consent"
    assert page.evaluate("() => document.getElementById('id_photo').files.length") == 1
    assert page.locator("#photo-kept").is_visible() and "me.jpg" in page.locator("#photo-kept").inner_text()
    assert page.is_checked("#style-warm-office") and page.is_checked("#id_consent")
    assert page.input_value("#id_signature") == "Jane Q. Example"
    assert page.url.endswith("/try/")
    check_accessibility(page, "upload refused by the server, photo kept")
    page.screenshot(path=str(screenshot_dir / "upload-refused-photo-kept-1280.png"), full_page=True)
    assert not PortraitJob.objects.exists()

    # Send again without choosing the photo again.
    page.evaluate(f"() => {{ document.querySelector('input[name=consent_version]').value = '{current}'; }}")
    page.click("#submit-upload")
    page.wait_for_url("**/jobs/*/")
    job = PortraitJob.objects.get()
    assert job.style_slug == "warm-office"
    context.close()


def test_without_javascript_a_refusal_keeps_the_tick_the_name_and_the_style(
    browser: Any, web_server: str, screenshot_dir: Path
) -> None:
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    serve_axe(context)
    page = context.new_page()
    page.goto(web_server + "/try/")
    page.set_input_files(
        "#id_photo", {"name": "x.gif", "mimeType": "image/gif", "buffer": b"GIF89a not really"}
    )
    page.check("#style-creative-dark")
    page.check("#id_consent")
    page.fill("#id_signature", "Jane Q. Example")
    page.click("#submit-upload")
    assert error_text(page, "photo") == DEFAULT_MESSAGES[ErrorCode.UNSUPPORTED_FORMAT]
    assert page.get_attribute("#id_photo", "aria-invalid") == "true"
    assert page.is_checked("#id_consent") and page.is_checked("#style-creative-dark")
    assert page.input_value("#id_signature") == "Jane Q. Example"
    assert "choose your photo again" in page.locator("#upload-summary").inner_text()
    assert no_sideways_scroll(page)
    # axe needs script; run it in a scripted copy of the same answer.
    html = page.content()
    page.screenshot(path=str(screenshot_dir / "upload-refused-no-js-390.png"), full_page=True)
    context.close()
    scripted = browser.new_context(viewport=PHONE)
    serve_axe(scripted)
    copy = scripted.new_page()
    copy.goto(web_server + "/try/")
    copy.set_content(html)
    check_accessibility(copy, "upload refused, no JavaScript")
    scripted.close()
