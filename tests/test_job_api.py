"""REST API v1 for jobs, as an outside client drives it (DESIGN.md "REST API v1")."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from compliance.models import AuditEvent, ConsentRecord
from gpu_worker.finish import read_xmp
from portraits.models import DataKey, Portrait, PortraitJob
from tests import photos

pytestmark = pytest.mark.django_db


def upload(client: Any, photo: bytes, fields: dict[str, Any], name: str = photos.UPLOAD_FILENAME) -> Any:
    return client.post(
        "/api/v1/jobs/", {**fields, "photo": SimpleUploadedFile(name, photo)}, format="multipart"
    )


def run_job(client: Any, photo: bytes, fields: dict[str, Any], capture: Any) -> tuple[Any, dict[str, Any]]:
    with capture(execute=True):
        response = upload(client, photo, fields)
    assert response.status_code == 201, response.content
    created = response.json()
    status = client.get(f"/api/v1/jobs/{created['id']}/", HTTP_X_JOB_TOKEN=created["token"])
    return created, status.json()


def test_it_lists_styles(api_client: Any) -> None:
    styles = api_client.get("/api/v1/styles/").json()
    slugs = {style["slug"] for style in styles}
    assert {"corporate-grey", "studio-white", "warm-office", "outdoor-natural", "creative-dark"} <= slugs
    assert all(style["name"] and style["description"] for style in styles)


def test_it_creates_a_job_and_shows_the_token_once(
    api_client: Any, selfie: bytes, consent_fields: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = upload(api_client, selfie, consent_fields)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "token", "status", "status_url"}
    assert body["status"] == "queued"
    assert body["status_url"].endswith(f"/api/v1/jobs/{body['id']}/")
    job = PortraitJob.objects.get(id=body["id"])
    assert body["token"] not in job.token_hash  # only a hash is stored
    assert len(callbacks) == 1  # generation queued after commit, with the id only


def test_a_finished_job_has_four_portraits_and_no_original(
    api_client: Any,
    selfie: bytes,
    consent_fields: Any,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    created, job = run_job(api_client, selfie, consent_fields, django_capture_on_commit_callbacks)
    assert job["status"] == "done"
    assert job["progress"] == 100
    assert job["error"] is None
    assert job["original_deleted_at"] is not None
    assert len(job["portraits"]) == 4
    record = PortraitJob.objects.get(id=created["id"])
    assert record.original_key.destroyed_at is not None and record.original_key.wrapped_key is None
    for portrait in job["portraits"]:
        assert portrait["width"] > 0 and portrait["height"] > 0
        full = api_client.get(portrait["download_url"])
        assert full.status_code == 200 and full["Content-Type"] == "image/jpeg"
        assert "attachment" in full["Content-Disposition"]
        image = Image.open(io.BytesIO(full.content))
        assert image.size == (portrait["width"], portrait["height"])
        assert photos.EXIF_MAKE.encode() not in full.content
        assert "trainedAlgorithmicMedia" in read_xmp(full.content)
        preview = api_client.get(portrait["preview_url"])
        assert preview.status_code == 200
        assert Image.open(io.BytesIO(preview.content)).size[0] < image.size[0]


def test_only_the_token_holder_can_read_or_delete(
    api_client: Any, selfie: bytes, consent_fields: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        body = upload(api_client, selfie, consent_fields).json()
    url = f"/api/v1/jobs/{body['id']}/"
    for headers in ({}, {"HTTP_X_JOB_TOKEN": "not-the-token"}):
        assert api_client.get(url, **headers).status_code == 404
        response = api_client.delete(url, **headers)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert api_client.get(url, HTTP_X_JOB_TOKEN=body["token"]).status_code == 200
    assert api_client.get("/api/v1/jobs/not-a-uuid/").status_code == 404


def test_delete_erases_portraits_objects_and_keys(
    api_client: Any,
    selfie: bytes,
    consent_fields: Any,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    created, job = run_job(api_client, selfie, consent_fields, django_capture_on_commit_callbacks)
    download_url = job["portraits"][0]["download_url"]
    response = api_client.delete(f"/api/v1/jobs/{created['id']}/", HTTP_X_JOB_TOKEN=created["token"])
    assert response.status_code == 204
    after = api_client.get(f"/api/v1/jobs/{created['id']}/", HTTP_X_JOB_TOKEN=created["token"]).json()
    assert after["status"] == "deleted" and after["portraits"] == []
    assert not Portrait.objects.filter(job_id=created["id"]).exists()
    assert not DataKey.objects.filter(destroyed_at__isnull=True).exists()
    storage_dir = settings.STORAGES["private"]["OPTIONS"]["location"]
    from pathlib import Path

    assert [p for p in Path(storage_dir).rglob("*") if p.is_file()] == []
    gone = api_client.get(download_url)
    assert gone.status_code == 410 and gone["Content-Type"].startswith("text/html")  # a page, not a file
    assert AuditEvent.objects.filter(action="job.erased", object_id=created["id"]).exists()


@pytest.mark.parametrize(
    ("photo", "name", "code"),
    [
        (b"%PDF-1.4 this is not an image at all", "selfie.jpg", "unsupported_format"),
        (photos.face_jpeg()[:3000], "selfie.jpg", "corrupt_image"),
        (photos.bomb_png_header(), "selfie.png", "image_too_large"),
    ],
)
def test_bad_files_are_refused_and_nothing_is_stored(
    api_client: Any, consent_fields: Any, photo: bytes, name: str, code: str, settings: Any
) -> None:
    response = upload(api_client, photo, consent_fields, name=name)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    assert_nothing_stored(settings)


def test_a_file_over_the_byte_cap_is_refused(
    api_client: Any, selfie: bytes, consent_fields: Any, settings: Any
) -> None:
    settings.PROPORTRAIT_MAX_UPLOAD_BYTES = 10_000
    response = upload(api_client, selfie, consent_fields)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "file_too_large"
    assert_nothing_stored(settings)


@pytest.mark.parametrize(
    "change",
    [{"consent": "false"}, {"signature": ""}, {"signature": " "}, {"consent_version": 999}],
    ids=["unticked", "no-signature", "blank-signature", "stale-version"],
)
def test_no_valid_consent_means_nothing_is_stored(
    api_client: Any, selfie: bytes, consent_fields: Any, change: dict[str, Any], settings: Any
) -> None:
    response = upload(api_client, selfie, {**consent_fields, **change})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "consent_required"
    assert_nothing_stored(settings)


def test_missing_photo_and_unknown_style_are_clear_errors(
    api_client: Any, consent_fields: Any, selfie: bytes, settings: Any
) -> None:
    response = api_client.post("/api/v1/jobs/", consent_fields, format="multipart")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_request"
    response = upload(api_client, selfie, {**consent_fields, "style": "no-such-style"})
    assert response.status_code == 400 and "style" in response.json()["error"]["message"].lower()
    assert_nothing_stored(settings)


def test_uploads_are_rate_limited_per_client(
    api_client: Any,
    selfie: bytes,
    consent_fields: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.PROPORTRAIT_UPLOADS_PER_HOUR = 2
    with django_capture_on_commit_callbacks(execute=False):
        assert upload(api_client, selfie, consent_fields).status_code == 201
        assert upload(api_client, selfie, consent_fields).status_code == 201
        response = upload(api_client, selfie, consent_fields)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert PortraitJob.objects.count() == 2


def test_a_photo_without_a_face_fails_the_job_and_destroys_the_original(
    api_client: Any, consent_fields: Any, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    _created, job = run_job(
        api_client, photos.no_face_png(), consent_fields, django_capture_on_commit_callbacks
    )
    assert job["status"] == "failed"
    assert job["error"]["code"] == "no_face"
    assert job["error"]["message"]
    assert job["original_deleted_at"] is not None
    assert job["portraits"] == []


def assert_nothing_stored(settings: Any) -> None:
    from pathlib import Path

    storage_dir = Path(settings.STORAGES["private"]["OPTIONS"]["location"])
    assert [p for p in storage_dir.rglob("*") if p.is_file()] == []
    assert PortraitJob.objects.count() == 0
    assert DataKey.objects.count() == 0
    assert ConsentRecord.objects.count() == 0
