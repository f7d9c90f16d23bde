"""While storage, the database or the local disk fails, an upload is refused with a clean 503
(JSON under /api/, a readable page otherwise) and leaves nothing behind: no job, no consent
record, no audit event, no data key, no object."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError

from compliance.models import AuditEvent, ConsentRecord
from portraits import services
from portraits.models import DataKey, PortraitJob
from tests import photos
from tests.faults import failing_storage

pytestmark = pytest.mark.django_db


def post(client: Any, fields: dict[str, Any]) -> Any:
    return client.post(
        "/api/v1/jobs/",
        {**fields, "photo": SimpleUploadedFile("a.jpg", photos.face_jpeg())},
        format="multipart",
    )


def assert_nothing_kept(storage_dir: Path) -> None:
    assert PortraitJob.objects.count() == 0
    assert ConsentRecord.objects.count() == 0
    assert DataKey.objects.count() == 0
    assert not AuditEvent.objects.filter(action="photo.received").exists()
    assert [path for path in storage_dir.rglob("*") if path.is_file()] == []


def assert_service_unavailable(response: Any, code: str = "service_unavailable") -> None:
    assert response.status_code == 503, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == code
    assert "try again" in response.json()["error"]["message"]
    assert int(response["Retry-After"]) > 0


def test_it_answers_503_json_and_keeps_nothing_when_storage_is_down(
    api_client: Any, consent_fields: Any, settings: Any, storage_dir: Path
) -> None:
    with failing_storage(settings, storage_dir) as storage_backend:
        storage_backend.failing = {"save"}
        response = post(api_client, consent_fields)
    assert_service_unavailable(response)
    assert_nothing_kept(storage_dir)


def test_it_answers_503_json_and_keeps_nothing_when_the_database_fails_mid_upload(
    api_client: Any, consent_fields: Any, monkeypatch: Any, storage_dir: Path
) -> None:
    def database_gone(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("server closed the connection unexpectedly")

    # Fails inside the upload's one transaction, after the object was written.
    monkeypatch.setattr(services, "record_biometric_consent", database_gone)
    response = post(api_client, consent_fields)
    assert_service_unavailable(response)
    assert_nothing_kept(storage_dir)


def test_it_refuses_an_upload_before_accepting_it_when_the_disk_is_nearly_full(
    api_client: Any, consent_fields: Any, settings: Any, storage_dir: Path, monkeypatch: Any
) -> None:
    inspected: list[bytes] = []
    monkeypatch.setattr(services, "inspect_upload", lambda photo, limits: inspected.append(photo))
    # More free space demanded than any disk has: the real free-space check must refuse.
    settings.PROPORTRAIT_MIN_FREE_DISK_MB = 2**40
    response = post(api_client, consent_fields)
    assert_service_unavailable(response, code="insufficient_storage")
    assert inspected == []  # refused before the photo was even looked at
    assert_nothing_kept(storage_dir)


def test_it_accepts_uploads_when_the_disk_has_room(
    api_client: Any, consent_fields: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.PROPORTRAIT_MIN_FREE_DISK_MB = 1
    with django_capture_on_commit_callbacks(execute=False):
        response = post(api_client, consent_fields)
    assert response.status_code == 201, response.content


def test_the_upload_page_says_to_try_again_shortly_during_an_outage(
    client: Any, consent_fields: Any, settings: Any, storage_dir: Path
) -> None:
    with failing_storage(settings, storage_dir) as storage_backend:
        storage_backend.failing = {"save"}
        response = client.post(
            "/try/", {**consent_fields, "photo": SimpleUploadedFile("a.jpg", photos.face_jpeg())}
        )
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "try again shortly" in body
    assert 'data-error-code="service_unavailable"' in body
    assert int(response["Retry-After"]) > 0
    assert_nothing_kept(storage_dir)


def test_any_api_answer_during_a_database_outage_is_json_503(api_client: Any, monkeypatch: Any) -> None:
    from portraits import api

    def database_gone(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(api, "job_for_request", database_gone)
    response = api_client.get("/api/v1/jobs/00000000-0000-0000-0000-000000000000/")
    assert_service_unavailable(response)


def test_a_page_during_a_database_outage_says_to_try_again_shortly(client: Any, monkeypatch: Any) -> None:
    from portraits import views

    def database_gone(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(views, "current_document", database_gone)
    response = client.get("/try/")
    assert response.status_code == 503
    assert "Please try again shortly" in response.content.decode()
    assert int(response["Retry-After"]) > 0
