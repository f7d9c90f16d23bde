"""Small photos: refused below the documented minimum, otherwise delivered at the size they
hold, and the portraits page and API say so."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from gpu_worker.framing import MAX_UPSCALE, MIN_OUTPUT_LONG_SIDE, min_photo_size
from gpu_worker.styles import get_style
from gpu_worker.tests.corpus import large_pixels
from portraits.models import DataKey, Portrait, PortraitJob
from tests import photos

pytestmark = pytest.mark.django_db


def _small_jpeg(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    photos.face_image().resize((width, height)).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def test_the_documented_minimum_follows_from_the_output_rules() -> None:
    width, height = min_photo_size(get_style("corporate-grey"))
    assert height == round(MIN_OUTPUT_LONG_SIDE / MAX_UPSCALE) and width == round(height * 4 / 5)


def test_the_api_refuses_a_photo_below_the_minimum_and_stores_nothing(
    api_client: Any, consent_fields: dict[str, Any]
) -> None:
    _, min_height = min_photo_size(get_style("corporate-grey"))
    response = api_client.post(
        "/api/v1/jobs/",
        {**consent_fields, "photo": SimpleUploadedFile("small.jpg", _small_jpeg(300, min_height - 20))},
        format="multipart",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "photo_too_small"
    assert f"{MIN_OUTPUT_LONG_SIDE} pixels" in error["message"] and "larger" in error["message"]
    assert PortraitJob.objects.count() == 0 and DataKey.objects.count() == 0


def test_the_upload_page_says_why_a_small_photo_was_refused(
    client: Client, consent_fields: dict[str, Any]
) -> None:
    response = client.post(
        "/try/",
        {**consent_fields, "photo": SimpleUploadedFile(photos.UPLOAD_FILENAME, _small_jpeg(240, 240))},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "too small for a sharp portrait" in html and f"{MIN_OUTPUT_LONG_SIDE} pixels" in html
    assert PortraitJob.objects.count() == 0


def test_a_small_photo_is_delivered_at_the_size_it_holds_and_the_page_says_so(
    client: Client,
    consent_fields: dict[str, Any],
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/try/",
            {**consent_fields, "photo": SimpleUploadedFile(photos.UPLOAD_FILENAME, _small_jpeg(512, 512))},
        )
    assert response.status_code == 302
    job = PortraitJob.objects.get()
    stored = list(Portrait.objects.filter(job=job))
    assert len(stored) == 4
    width, height = stored[0].width, stored[0].height
    assert all((p.width, p.height) == (width, height) for p in stored)
    # Never enlarged past what the photo holds: a 512 px photo cannot fill 1024 x 1280.
    assert height < 1280 and height <= 512 * MAX_UPSCALE

    html = client.get(response["Location"]).content.decode()
    assert f"These portraits are {width} x {height} pixels" in html and "1024 x 1280" in html
    token_job = client.get(f"/api/v1/jobs/{job.id}/")
    assert token_job.status_code == 200
    assert token_job.json()["size_note"].startswith(f"These portraits are {width} x {height} pixels")


def test_full_size_portraits_carry_no_size_note(
    client: Client,
    consent_fields: dict[str, Any],
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    buffer = io.BytesIO()
    Image.fromarray(large_pixels(2400, 1800)).save(buffer, "JPEG", quality=90)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/try/",
            {**consent_fields, "photo": SimpleUploadedFile(photos.UPLOAD_FILENAME, buffer.getvalue())},
        )
    job = PortraitJob.objects.get()
    assert {(p.width, p.height) for p in Portrait.objects.filter(job=job)} == {(1024, 1280)}
    html = client.get(response["Location"]).content.decode()
    # The note's place is kept (hidden and empty) for the page script; it says nothing.
    assert '<p class="notice hidden" id="size-note"></p>' in html
    assert client.get(f"/api/v1/jobs/{job.id}/").json()["size_note"] is None
