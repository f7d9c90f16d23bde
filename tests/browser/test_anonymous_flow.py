"""The anonymous flow in a real browser: landing → upload with consent → live progress →
results → "Delete now" → receipt, plus the consent error, on a real gunicorn process and a
real Celery worker. Also: a Content-Security-Policy on every page, no CSP violation, and no
request to any host other than 127.0.0.1."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from portraits.models import JobStatus, PortraitJob
from tests import photos
from tests.browser.conftest import DESKTOP, PHONE

# serialized_rollback: the web and worker processes need committed data, and the flush after
# each test would otherwise also remove what migrations published (the consent documents).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

JOB_URL = re.compile(r"/jobs/(?P<id>[0-9a-f-]{36})/$")


class PageWatch:
    """Records every request's host and every console error of a browser context."""

    def __init__(self, context: Any) -> None:
        self.hosts: list[str] = []
        self.console_errors: list[str] = []
        self.failed: list[str] = []
        self.bad_responses: list[tuple[int, str]] = []
        context.on("request", self._on_request)
        context.on("requestfailed", lambda request: self.failed.append(request.url))
        context.on("response", self._on_response)
        context.on("page", self._on_page)

    def _on_request(self, request: Any) -> None:
        parsed = urlparse(request.url)
        if parsed.scheme in {"http", "https", "ws", "wss"}:
            self.hosts.append(parsed.hostname or "")

    def _on_response(self, response: Any) -> None:
        if response.status >= 400:
            self.bad_responses.append((response.status, urlparse(response.url).path))

    def _on_page(self, page: Any) -> None:
        page.on("console", self._on_console)

    def _on_console(self, message: Any) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def assert_clean(self, expected_errors: tuple[tuple[int, str], ...] = ()) -> None:
        assert self.hosts, "no request was recorded"
        assert set(self.hosts) == {"127.0.0.1"}, f"requests left the machine: {sorted(set(self.hosts))}"
        csp = [text for text in self.console_errors if "Content Security Policy" in text]
        assert not csp, csp
        assert not self.failed, f"requests failed: {self.failed}"
        assert self.bad_responses == list(expected_errors), f"error responses: {self.bad_responses}"


def assert_csp(response: Any) -> None:
    assert response is not None and response.ok, response and response.status
    policy = response.headers.get("content-security-policy", "")
    assert "default-src 'self'" in policy and "script-src 'self'" in policy, policy


def photo_file(tmp_path: Path) -> Path:
    path = tmp_path / photos.UPLOAD_FILENAME
    path.write_bytes(photos.face_jpeg())
    return path


def test_the_consent_error_is_shown_and_nothing_is_stored(
    browser: Any, web_server: str, tmp_path: Path, storage_dir: Path
) -> None:
    # Without JavaScript, so the server's check is the one seen (the page's script checks the
    # box before sending: tests/browser/test_upload_checks_before_sending.py).
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    watch = PageWatch(context)
    page = context.new_page()
    try:
        assert_csp(page.goto(web_server + "/try/"))
        page.set_input_files("#id_photo", str(photo_file(tmp_path)))
        page.fill("#id_signature", "Jane Q. Example")
        assert not page.is_checked("#id_consent")  # never pre-ticked
        with page.expect_navigation():
            page.click("#submit-upload")
        alert = page.get_by_role("alert")
        alert.wait_for()
        assert alert.get_attribute("data-error-code") == "consent_required"
        assert "consent" in alert.inner_text().lower()
        assert page.url.endswith("/try/")
        watch.assert_clean(expected_errors=((400, "/try/"),))
    finally:
        context.close()
    assert PortraitJob.objects.count() == 0
    assert [path for path in storage_dir.rglob("*") if path.is_file()] == []


def test_the_whole_anonymous_flow(
    browser: Any, web_server: str, worker: Any, tmp_path: Path, storage_dir: Path, screenshot_dir: Path
) -> None:
    from playwright.sync_api import expect

    # The upload page on a phone.
    phone = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True)
    try:
        phone_watch = PageWatch(phone)
        phone_page = phone.new_page()
        assert_csp(phone_page.goto(web_server + "/try/"))
        phone_page.wait_for_load_state("networkidle")
        phone_page.screenshot(path=str(screenshot_dir / "upload-phone.png"), full_page=True)
        overflow = phone_page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the upload page scrolls sideways on a phone by {overflow}px"
        phone_watch.assert_clean()
    finally:
        phone.close()

    context = browser.new_context(viewport=DESKTOP)
    watch = PageWatch(context)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        # 1. Landing page.
        assert_csp(page.goto(web_server + "/"))
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(screenshot_dir / "landing.png"), full_page=True)

        # 2. Upload page: photo, style, consent, signature.
        with page.expect_navigation():
            page.get_by_role("link", name="Create my portraits").click()
        assert page.url.endswith("/try/")
        page.set_input_files("#id_photo", str(photo_file(tmp_path)))
        page.check("#style-studio-white")
        page.check("#id_consent")
        page.fill("#id_signature", "Jane Q. Example")
        page.screenshot(path=str(screenshot_dir / "upload.png"), full_page=True)
        with page.expect_navigation():
            page.click("#submit-upload")
        match = JOB_URL.search(urlparse(page.url).path)
        assert match, page.url
        job_id = match["id"]

        # 3. Live progress (the worker holds the job in `processing` for a few seconds).
        status_text = page.locator("#status-text")
        try:
            expect(status_text).to_contain_text("%", timeout=60_000)
        finally:
            page.screenshot(path=str(screenshot_dir / "progress.png"), full_page=True)
        expect(page.locator("#progress-bar")).to_be_visible()

        # 4. Results: four watermarked previews, really loaded.
        expect(page.locator("#results-panel")).to_be_visible(timeout=120_000)
        expect(page.locator("#progress-panel")).to_be_hidden()
        images = page.locator("#gallery img")
        expect(images).to_have_count(4)
        page.wait_for_function(
            "() => { const imgs = [...document.querySelectorAll('#gallery img')];"
            " return imgs.length === 4 && imgs.every(i => i.complete && i.naturalWidth > 0); }"
        )
        destroyed = page.locator("#original-state")
        expect(destroyed).to_contain_text("original photo was destroyed at", timeout=30_000)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(screenshot_dir / "results.png"), full_page=True)
        job = PortraitJob.objects.get(id=job_id)
        assert job.status == JobStatus.DONE and job.style_slug == "studio-white"
        assert job.original_deleted_at is not None
        assert not list(storage_dir.glob("originals/*"))

        # 5. Delete now → confirmation → receipt.
        with page.expect_navigation():
            page.click("#delete-now")
        expect(page.get_by_role("heading", level=1)).to_have_text("Delete your portraits now?")
        with page.expect_navigation():
            page.click("#confirm-action")
        expect(page.get_by_role("heading", level=1)).to_have_text("Everything is deleted")
        receipt = page.locator("dl.receipt")
        expect(receipt).to_contain_text(job_id)
        expect(receipt.locator("dt:has-text('Portraits deleted') + dd")).to_have_text("4")
        page.screenshot(path=str(screenshot_dir / "receipt.png"), full_page=True)
        watch.assert_clean()
    finally:
        context.close()

    job = PortraitJob.objects.get(id=job_id)
    assert job.status == JobStatus.DELETED
    assert job.portraits.count() == 0
    assert [path for path in storage_dir.rglob("*") if path.is_file()] == []
