"""Upload limits that hold for a hostile client, not only for a browser."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory

from portraits.models import PortraitJob
from portraits.uploads import CappedMemoryUploadHandler
from tests import photos

pytestmark = pytest.mark.django_db


def test_the_byte_cap_counts_all_files_of_a_request_together(settings: Any) -> None:
    from django.core.files.uploadhandler import SkipFile, StopFutureHandlers

    settings.PROPORTRAIT_MAX_UPLOAD_BYTES = 100_000
    request = RequestFactory().post("/")
    handler = CappedMemoryUploadHandler(request)
    handler.handle_raw_input(None, {}, 95_000, b"boundary")
    kept = 0
    with pytest.raises(SkipFile):
        for name in ("a.jpg", "b.jpg", "c.jpg"):
            with pytest.raises(StopFutureHandlers):  # the memory handler keeps the file itself
                handler.new_file("photo", name, "image/jpeg", 40_000)
            for start in range(0, 40_000, 10_000):
                handler.receive_data_chunk(b"x" * 10_000, start)
                kept += 10_000
    assert kept <= 100_000
    assert request.upload_too_large is True


def test_a_request_with_two_files_is_refused_and_stores_nothing(api_client: Any, consent_fields: Any) -> None:
    response = api_client.post(
        "/api/v1/jobs/",
        {
            **consent_fields,
            "photo": SimpleUploadedFile("a.jpg", photos.face_jpeg(256)),
            "extra": SimpleUploadedFile("b.jpg", photos.face_jpeg(256)),
        },
        format="multipart",
    )
    assert response.status_code == 400
    assert PortraitJob.objects.count() == 0


def test_the_api_requires_the_consent_version_that_was_shown(api_client: Any, consent_fields: Any) -> None:
    fields = {key: value for key, value in consent_fields.items() if key != "consent_version"}
    response = api_client.post(
        "/api/v1/jobs/",
        {**fields, "photo": SimpleUploadedFile("a.jpg", photos.face_jpeg(256))},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "consent_required"
    assert "consent_version" in response.json()["error"]["message"]
    assert PortraitJob.objects.count() == 0


def test_the_rate_limit_is_checked_before_any_decoding(
    api_client: Any, consent_fields: Any, settings: Any, monkeypatch: Any
) -> None:
    import portraits.services

    settings.PROPORTRAIT_UPLOADS_PER_HOUR = 0
    decoded = []
    monkeypatch.setattr(portraits.services, "inspect_upload", lambda *args: decoded.append(1))
    response = api_client.post(
        "/api/v1/jobs/",
        {**consent_fields, "photo": SimpleUploadedFile("a.jpg", b"x" * 1000)},
        format="multipart",
    )
    assert response.status_code == 429 and decoded == []


def test_an_unknown_style_is_a_fixed_plain_message(api_client: Any, consent_fields: Any) -> None:
    response = api_client.post(
        "/api/v1/jobs/",
        {**consent_fields, "style": "nope", "photo": SimpleUploadedFile("a.jpg", photos.face_jpeg(256))},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("Unknown style. Choose one of: corporate-grey")


def test_static_files_carry_the_content_security_policy(client: Any) -> None:
    from django.core.management import call_command

    call_command("collectstatic", "--noinput", verbosity=0)
    response = client.get("/static/proportrait/site.css")
    assert response.status_code == 200
    assert "default-src 'self'" in response["Content-Security-Policy"]


def test_a_generation_request_never_prints_the_photo() -> None:
    from gpu_worker.schemas import GenerationRequest
    from gpu_worker.styles import get_style

    request = GenerationRequest(job_id="j", photo=b"\xff\xd8PHOTO-BYTES", style=get_style("corporate-grey"))
    assert "PHOTO-BYTES" not in repr(request)
