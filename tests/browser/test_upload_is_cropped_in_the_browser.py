"""Data minimisation in the browser: the upload page finds the face, crops to head and
shoulders, re-encodes without metadata, shows "This is all we receive" before consent, and
sends only that. Every request the page makes is recorded: none leaves the machine. The bytes
the server received are taken from the form post itself and from the stored original.

Measured here too (printed, and written up in docs/browser-crop.md): bytes and pixels received
for the 12-megapixel test photo before and after, and the detection time in headless Chromium."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pytest
from PIL import Image

from gpu_worker.analysis import analyse_face
from gpu_worker.tests import corpus
from portraits import services
from portraits.models import PortraitJob
from tests import photos
from tests.browser.conftest import DESKTOP, PHONE

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

JOB_URL = re.compile(r"/jobs/(?P<id>[0-9a-f-]{36})/$")
GPS_LATITUDE = (51.0, 30.0, 12.0)


def twelve_megapixel_photo(*, sideways: bool = False) -> bytes:
    """The 12 MP test photo (4000x3000) with camera make, owner and GPS in its EXIF. Sideways:
    stored rotated, with an orientation flag saying how to turn it upright (as phones do)."""
    image = Image.fromarray(corpus.large_pixels(4000, 3000))
    exif = Image.Exif()
    exif[0x010F] = photos.EXIF_MAKE
    exif[0x013B] = photos.EXIF_ARTIST
    exif[0x8825] = {1: "N", 2: GPS_LATITUDE, 3: "W", 4: (0.0, 7.0, 39.0)}
    if sideways:
        image = image.transpose(Image.Transpose.ROTATE_90)  # stored turned left...
        exif[0x0112] = 6  # ...and flagged "rotate 90 degrees clockwise to view"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif.tobytes())
    return buffer.getvalue()


class Recorder:
    """Every request of a browser context (hosts, and whether the upload form was posted)."""

    def __init__(self, context: Any) -> None:
        self.urls: list[str] = []
        self.uploads = 0
        self.console_errors: list[str] = []
        context.on("request", self._on_request)
        context.on("page", lambda page: page.on("console", self._on_console))

    def _on_request(self, request: Any) -> None:
        self.urls.append(request.url)
        if request.method == "POST" and urlparse(request.url).path == "/try/":
            self.uploads += 1

    def _on_console(self, message: Any) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def assert_nothing_left_the_machine(self) -> None:
        hosts = {urlparse(url).hostname for url in self.urls if urlparse(url).scheme in {"http", "https"}}
        assert hosts == {"127.0.0.1"}, f"requests left the machine: {sorted(hosts)}"
        csp = [text for text in self.console_errors if "Content Security Policy" in text]
        assert not csp, csp


def received(job_id: str) -> bytes:
    """The photo exactly as the server received it: its stored original, decrypted."""
    return services.read_original(PortraitJob.objects.get(id=job_id))


def chosen_file(page: Any) -> dict[str, Any]:
    """What the form's file field holds now, i.e. what a submit will send."""
    return dict(
        page.evaluate(
            "() => { const f = document.getElementById('id_photo').files[0];"
            " return {name: f.name, size: f.size, type: f.type}; }"
        )
    )


def assert_no_metadata(data: bytes) -> None:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    assert not image.getexif(), dict(image.getexif())
    assert b"Exif" not in data[:4096]
    for secret in (photos.EXIF_MAKE.encode(), photos.EXIF_ARTIST.encode(), b"GPS"):
        assert secret not in data


def one_upright_face(data: bytes) -> None:
    """The server's own face analysis finds exactly one face, upright, in what was sent."""
    pixels = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    analysis = analyse_face(pixels)  # raises no_face / multiple_faces / face_too_small
    assert analysis is not None


def consent_and_submit(page: Any) -> str:
    page.check("#id_consent")
    page.fill("#id_signature", "Jane Q. Example")
    with page.expect_navigation():
        page.click("#submit-upload")
    match = JOB_URL.search(page.url)
    assert match, page.url
    return match.group("id")


def choose(page: Any, path: Path) -> None:
    page.set_input_files("#id_photo", str(path))


def test_it_sends_only_the_cropped_face_of_a_12_megapixel_photo(
    browser: Any, web_server: str, tmp_path: Path, screenshot_dir: Path
) -> None:
    original = twelve_megapixel_photo()
    path = tmp_path / photos.UPLOAD_FILENAME
    path.write_bytes(original)
    context = browser.new_context(viewport=DESKTOP)
    recorder = Recorder(context)
    page = context.new_page()
    page.set_default_timeout(90_000)
    try:
        page.goto(web_server + "/try/")
        # Reaching for the file field loads and warms the detector (the page's own preload).
        page.focus("#id_photo")
        page.locator("#crop-panel[data-detector=ready]").wait_for(state="attached")
        choose(page, path)
        panel = page.locator("#crop-panel[data-state=automatic]")
        panel.wait_for()
        # Seen before consenting: the heading, the exact image, the facts, above the consent box.
        assert page.get_by_role("heading", name="This is all we receive").is_visible()
        assert page.locator("#crop-preview").is_visible()
        assert "No location, camera, date or file name" in page.locator("#crop-facts").inner_text()
        preview_box = page.locator("#crop-preview").bounding_box()
        consent_box = page.locator("#id_consent").bounding_box()
        assert preview_box and consent_box and preview_box["y"] < consent_box["y"]
        page.screenshot(path=str(screenshot_dir / "upload-crop.png"), full_page=True)
        measured = {key: panel.get_attribute(f"data-{key}") for key in (
            "original-bytes", "original-width", "original-height",
            "sent-bytes", "sent-width", "sent-height", "load-ms", "detect-ms", "faces", "backend",
        )}  # fmt: skip
        chosen = chosen_file(page)
        job_id = consent_and_submit(page)
    finally:
        context.close()

    recorder.assert_nothing_left_the_machine()
    assert recorder.uploads == 1
    sent = received(job_id)
    assert chosen == {"name": "photo.jpg", "size": len(sent), "type": "image/jpeg"}  # not the original's name
    assert_no_metadata(sent)
    sent_image = Image.open(io.BytesIO(sent))
    width, height = sent_image.size
    assert max(width, height) <= 1600
    assert width * height < 0.25 * 4000 * 3000
    assert len(sent) < len(original) / 2  # a camera JPEG shrinks far more; this one is smooth
    assert (str(width), str(height), str(len(sent))) == (
        measured["sent-width"],
        measured["sent-height"],
        measured["sent-bytes"],
    )
    one_upright_face(sent)

    measured.update(
        {
            "original_bytes_actual": len(original),
            "sent_bytes_actual": len(sent),
            "sent_pixels": width * height,
        }
    )
    print("\nbrowser crop, 12 MP photo:", json.dumps(measured))
    (tmp_path / "measurements.json").write_text(json.dumps(measured, indent=2))


def test_a_sideways_phone_photo_is_sent_upright(browser: Any, web_server: str, tmp_path: Path) -> None:
    path = tmp_path / "sideways.jpg"
    path.write_bytes(twelve_megapixel_photo(sideways=True))
    context = browser.new_context(viewport=DESKTOP)
    recorder = Recorder(context)
    page = context.new_page()
    page.set_default_timeout(90_000)
    try:
        page.goto(web_server + "/try/")
        choose(page, path)
        page.locator("#crop-panel[data-state=automatic]").wait_for()
        panel = page.locator("#crop-panel")
        assert panel.get_attribute("data-original-width") == "4000"  # turned upright
        # Chosen without the preload: the detector loads (and warms up) first.
        cold = {key: panel.get_attribute(f"data-{key}") for key in ("load-ms", "detect-ms", "backend")}
        print("\nbrowser crop, detector not preloaded:", json.dumps(cold))
        job_id = consent_and_submit(page)
    finally:
        context.close()
    recorder.assert_nothing_left_the_machine()
    sent = received(job_id)
    assert_no_metadata(sent)  # no orientation flag either: the pixels themselves are upright
    one_upright_face(sent)


def test_without_a_face_it_offers_a_manual_crop_and_never_sends_the_whole_photo(
    browser: Any, web_server: str, tmp_path: Path, screenshot_dir: Path
) -> None:
    path = tmp_path / "wall.png"
    path.write_bytes(photos.no_face_png())
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    recorder = Recorder(context)
    page = context.new_page()
    page.set_default_timeout(90_000)
    try:
        page.goto(web_server + "/try/")
        choose(page, path)
        page.locator("#crop-manual").wait_for(state="visible")
        assert "could not find a face" in page.locator("#crop-status").inner_text()
        page.screenshot(path=str(screenshot_dir / "upload-crop-manual-phone.png"), full_page=True)
        # Submitting before framing sends nothing.
        page.check("#id_consent")
        page.fill("#id_signature", "Jane Q. Example")
        page.click("#submit-upload")
        assert "Use this crop" in page.locator("#crop-status").inner_text()
        assert recorder.uploads == 0
        # Frame by keyboard, then use it.
        page.focus("#crop-stage")
        page.keyboard.press("ArrowLeft")
        page.click("#crop-use")
        page.locator("#crop-panel[data-state=manual]").wait_for()
        with page.expect_navigation():
            page.click("#submit-upload")
        job_id = JOB_URL.search(page.url).group("id")  # type: ignore[union-attr]
    finally:
        context.close()
    recorder.assert_nothing_left_the_machine()
    sent = received(job_id)
    assert_no_metadata(sent)
    assert Image.open(io.BytesIO(sent)).size != Image.open(io.BytesIO(photos.no_face_png())).size


def test_without_javascript_the_form_sends_the_photo_as_chosen(
    browser: Any, web_server: str, tmp_path: Path
) -> None:
    original = photos.face_jpeg()
    path = tmp_path / photos.UPLOAD_FILENAME
    path.write_bytes(original)
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    recorder = Recorder(context)
    page = context.new_page()
    try:
        page.goto(web_server + "/try/")
        assert not page.locator("#crop-panel").is_visible()
        choose(page, path)
        job_id = consent_and_submit(page)
    finally:
        context.close()
    assert received(job_id) == original  # the server's path: it strips metadata, checks faces itself
    assert recorder.uploads == 1
