"""The photo's life (DESIGN.md): encrypted at rest, destroyed at job end, swept if orphaned,
and no trace of it anywhere afterwards."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from compliance.audit import verify_chain
from compliance.models import AuditEvent
from portraits import crypto, services
from portraits.models import JobStatus, PortraitJob
from tests import photos

pytestmark = pytest.mark.django_db


def storage_files(settings: Any) -> list[Path]:
    root = Path(settings.STORAGES["private"]["OPTIONS"]["location"])
    return [path for path in root.rglob("*") if path.is_file()]


def post_photo(client: Any, photo: bytes, fields: dict[str, Any]) -> dict[str, Any]:
    response = client.post(
        "/api/v1/jobs/",
        {**fields, "photo": SimpleUploadedFile(photos.UPLOAD_FILENAME, photo)},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_storage_only_ever_holds_ciphertext(
    api_client: Any,
    selfie: bytes,
    consent_fields: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        created = post_photo(api_client, selfie, consent_fields)
    [stored] = storage_files(settings)
    raw = stored.read_bytes()
    assert raw.startswith(crypto.MAGIC)
    assert b"\xff\xd8\xff" not in raw[:64]  # not a JPEG
    for offset in range(0, len(selfie) - 64, 997):
        assert selfie[offset : offset + 64] not in raw
    # ...and it really is the photo, readable only with the job's data key.
    job = PortraitJob.objects.get(id=created["id"])
    assert services.read_original(job) == selfie


def test_the_original_is_destroyed_when_the_job_completes(
    api_client: Any,
    selfie: bytes,
    consent_fields: Any,
    eager_celery: None,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        created = post_photo(api_client, selfie, consent_fields)
    job = PortraitJob.objects.get(id=created["id"])
    assert job.status == JobStatus.DONE
    assert job.original_deleted_at is not None
    assert job.original_deleted_at <= job.finished_at  # destroyed before "done" was published
    assert not any("originals" in str(path) for path in storage_files(settings))
    with pytest.raises(crypto.KeyDestroyed):
        services.read_original(job)
    actions = list(AuditEvent.objects.filter(object_id=str(job.id)).values_list("action", flat=True))
    for expected in [
        "photo.received",
        "job.queued",
        "job.processing_started",
        "job.completed",
        "original.destroyed",
    ]:
        assert expected in actions
    assert verify_chain().ok


def test_the_original_is_destroyed_when_generation_crashes(
    api_client: Any,
    selfie: bytes,
    consent_fields: Any,
    eager_celery: None,
    settings: Any,
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    import gpu_worker.tasks

    class Exploding:
        def __call__(self, request: Any) -> Any:
            raise RuntimeError("simulated crash with secret detail")

    monkeypatch.setattr(gpu_worker.tasks, "get_pipeline", lambda backend: Exploding())
    with django_capture_on_commit_callbacks(execute=True):
        created = post_photo(api_client, selfie, consent_fields)
    job = PortraitJob.objects.get(id=created["id"])
    assert job.status == JobStatus.FAILED
    assert job.error_code == "generation_failed"
    assert "secret detail" not in job.error_message
    assert job.original_deleted_at is not None
    assert storage_files(settings) == []


def test_the_sweeper_destroys_originals_older_than_the_deadman_limit(
    api_client: Any,
    selfie: bytes,
    consent_fields: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.PROPORTRAIT_ORIGINAL_DEADMAN_MINUTES = 15
    with django_capture_on_commit_callbacks(execute=False):
        created = post_photo(api_client, selfie, consent_fields)
    # A worker claimed it and died: the job sits in processing forever.
    assert services.claim_job(created["id"]) is not None
    assert services.destroy_stale_originals() == 0  # too young
    with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False):
        assert services.destroy_stale_originals() == 1
    job = PortraitJob.objects.get(id=created["id"])
    assert job.original_deleted_at is not None
    assert job.status == JobStatus.FAILED
    assert storage_files(settings) == []
    # A late worker can no longer claim it.
    assert services.claim_job(created["id"]) is None


def test_the_sweeper_shreds_keys_of_jobs_that_never_committed(db: Any) -> None:
    from portraits.models import DataKeyPurpose

    data_key, _ = crypto.create_data_key(DataKeyPurpose.ORIGINAL)
    with time_machine.travel(timezone.now() + timedelta(hours=1), tick=False):
        assert services.destroy_stale_originals() == 1
    data_key.refresh_from_db()
    assert data_key.destroyed_at is not None and data_key.wrapped_key is None


def test_expired_results_are_purged(
    api_client: Any,
    selfie: bytes,
    consent_fields: Any,
    eager_celery: None,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.PROPORTRAIT_ANONYMOUS_RETENTION_HOURS = 24
    with django_capture_on_commit_callbacks(execute=True):
        created = post_photo(api_client, selfie, consent_fields)
    assert storage_files(settings)  # the portraits
    with time_machine.travel(timezone.now() + timedelta(hours=23), tick=False):
        assert services.purge_expired_results() == 0
    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
        assert services.purge_expired_results() == 1
    assert PortraitJob.objects.get(id=created["id"]).status == JobStatus.DELETED
    assert storage_files(settings) == []


def test_no_trace_of_the_photo_remains_after_a_job(
    api_client: Any,
    selfie: bytes,
    consent_fields: Any,
    eager_celery: None,
    settings: Any,
    caplog: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=True):
        post_photo(api_client, selfie, consent_fields)
    needles = [photos.EXIF_MAKE.encode(), photos.EXIF_ARTIST.encode(), photos.UPLOAD_FILENAME.encode()]
    chunks = [selfie[offset : offset + 48] for offset in range(200, len(selfie) - 48, 1500)]

    # Storage: only ciphertext of the results; no original, no EXIF value, no filename.
    for path in storage_files(settings):
        data = path.read_bytes()
        assert "original" not in path.name
        assert photos.UPLOAD_FILENAME not in str(path)
        for needle in needles + chunks:
            assert needle not in data

    # Database: every column of every row of every table.
    dump = dump_database()
    for needle in needles + chunks:
        assert needle not in dump

    # Logs.
    text = caplog.text.encode()
    for needle in needles:
        assert needle not in text


def dump_database() -> bytes:
    parts: list[bytes] = []
    for model in apps.get_models():
        for row in model.objects.all().values():
            for value in row.values():
                if isinstance(value, bytes | memoryview):
                    parts.append(bytes(value))
                else:
                    parts.append(str(value).encode())
    return b"\x00".join(parts)
