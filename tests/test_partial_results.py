"""Results that were never published (storage failed, worker killed while storing) leave nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from portraits import services, storage
from portraits.models import DataKey, JobStatus, PortraitJob
from tests import photos

pytestmark = pytest.mark.django_db


def stored_files(settings: Any) -> list[Path]:
    root = Path(settings.STORAGES["private"]["OPTIONS"]["location"])
    return [path for path in root.rglob("*") if path.is_file()]


def queue_job(client: Any, fields: dict[str, Any], capture: Any) -> PortraitJob:
    with capture(execute=False):
        response = client.post(
            "/api/v1/jobs/",
            {**fields, "photo": SimpleUploadedFile("a.jpg", photos.face_jpeg())},
            format="multipart",
        )
    assert response.status_code == 201
    return PortraitJob.objects.get(id=response.json()["id"])


def failing_put_after(count: int, error: BaseException, monkeypatch: Any) -> None:
    real_put = storage.put_object
    calls = {"n": 0}

    def put(key: str, data: bytes) -> str:
        if key.startswith("results/"):
            calls["n"] += 1
            if calls["n"] > count:
                raise error
        return real_put(key, data)

    monkeypatch.setattr(storage, "put_object", put)


def test_a_storage_error_while_storing_results_fails_the_job_and_leaves_nothing(
    api_client: Any,
    consent_fields: Any,
    settings: Any,
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from gpu_worker.tasks import generate_portraits

    job = queue_job(api_client, consent_fields, django_capture_on_commit_callbacks)
    failing_put_after(3, OSError("disk full"), monkeypatch)
    with pytest.raises(OSError):
        generate_portraits(str(job.id))
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.error_code == "generation_failed"
    assert job.original_deleted_at is not None
    assert stored_files(settings) == []
    assert not DataKey.objects.filter(destroyed_at__isnull=True).exists()


def test_a_worker_killed_while_storing_results_is_cleaned_up_by_the_sweeper(
    api_client: Any,
    consent_fields: Any,
    settings: Any,
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from gpu_worker.tasks import generate_portraits

    job = queue_job(api_client, consent_fields, django_capture_on_commit_callbacks)
    # A SIGKILL runs no clean-up code at all: nothing after the third object is written.
    failing_put_after(3, SystemExit(-9), monkeypatch)
    monkeypatch.setattr(services, "discard_partial_results", lambda job: 0)
    monkeypatch.setattr(services, "fail_job", lambda *args: None)
    with pytest.raises(SystemExit):
        generate_portraits(str(job.id))
    monkeypatch.undo()
    job.refresh_from_db()
    assert job.status == JobStatus.PROCESSING
    assert len(stored_files(settings)) == 3  # readable portraits, and their key is live
    assert job.results_key is not None and job.results_key.destroyed_at is None

    with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False):
        services.destroy_stale_originals()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert stored_files(settings) == []
    assert not DataKey.objects.filter(destroyed_at__isnull=True).exists()


def test_erasing_a_job_removes_objects_that_no_portrait_row_points_to(
    api_client: Any, consent_fields: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    job = queue_job(api_client, consent_fields, django_capture_on_commit_callbacks)
    storage.put_object(f"results/{job.id}/0-full.bin", b"PPE1 unpublished")
    services.erase_job(job, reason="holder_request", actor="job_holder")
    assert stored_files(settings) == []
