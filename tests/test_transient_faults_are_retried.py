"""A job interrupted by a transient fault (storage or database briefly away) is retried with
backoff inside the dead-man window: it says "retrying", keeps its original meanwhile, and ends
done once the dependency is back. It fails only when the limit truly passes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError

import gpu_worker.tasks
from compliance.models import AuditEvent
from gpu_worker.tasks import generate_portraits
from portraits import gateway, services
from portraits.models import DataKey, JobStatus, PortraitJob
from tests import photos
from tests.faults import failing_storage

pytestmark = pytest.mark.django_db


@pytest.fixture
def republished(monkeypatch: Any) -> list[tuple[str, float]]:
    """The task's own re-publications (job id, delay), instead of a broker."""
    calls: list[tuple[str, float]] = []

    def publish_again(job_id: str, delay: float, attempt: int = 0) -> None:
        calls.append((job_id, delay))

    monkeypatch.setattr(gpu_worker.tasks, "_publish_again", publish_again)
    monkeypatch.setattr(gateway, "STORE_RETRY_PAUSES_SECONDS", (0, 0))
    monkeypatch.setattr(gateway.time, "sleep", lambda seconds: None)
    return calls


def queued_job(client: Any, fields: dict[str, Any], capture: Any) -> PortraitJob:
    with capture(execute=False):
        response = client.post(
            "/api/v1/jobs/",
            {**fields, "photo": SimpleUploadedFile("a.jpg", photos.face_jpeg())},
            format="multipart",
        )
    assert response.status_code == 201, response.content
    return PortraitJob.objects.get(id=response.json()["id"])


def test_storage_down_while_reading_the_original_defers_the_job_and_keeps_the_original(
    api_client: Any,
    consent_fields: Any,
    settings: Any,
    storage_dir: Path,
    django_capture_on_commit_callbacks: Any,
    republished: list[tuple[str, float]],
) -> None:
    with failing_storage(settings, storage_dir) as storage_backend:
        job = queued_job(api_client, consent_fields, django_capture_on_commit_callbacks)
        storage_backend.failing = {"open"}
        generate_portraits(str(job.id))

        job.refresh_from_db()
        assert job.status == JobStatus.RETRYING
        assert job.stage == "retrying"
        assert job.error_code == ""
        assert job.original_deleted_at is None
        assert DataKey.objects.get(id=job.original_key_id).destroyed_at is None
        assert list(storage_dir.glob("originals/*"))
        assert republished == [(str(job.id), services.retry_delay_seconds(1))]
        assert job.next_attempt_at is not None
        event = AuditEvent.objects.get(action="job.retry_scheduled", object_id=str(job.id))
        assert event.data["reason"] == "StorageUnavailable"

        # Storage is back: the next attempt runs the job to the end.
        storage_backend.failing = set()
        generate_portraits(str(job.id))
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, (job.error_code, job.error_message)
    assert job.attempts == 2
    assert job.portraits.count() == settings.PROPORTRAIT_PORTRAITS_PER_JOB
    assert job.original_deleted_at is not None
    assert not list(storage_dir.glob("originals/*"))


def test_the_api_says_retrying_meanwhile(
    api_client: Any,
    consent_fields: Any,
    settings: Any,
    storage_dir: Path,
    django_capture_on_commit_callbacks: Any,
    republished: list[tuple[str, float]],
) -> None:
    with failing_storage(settings, storage_dir) as storage_backend:
        with django_capture_on_commit_callbacks(execute=False):
            created = api_client.post(
                "/api/v1/jobs/",
                {**consent_fields, "photo": SimpleUploadedFile("a.jpg", photos.face_jpeg())},
                format="multipart",
            ).json()
        storage_backend.failing = {"open"}
        generate_portraits(created["id"])
    body = api_client.get(f"/api/v1/jobs/{created['id']}/", HTTP_X_JOB_TOKEN=created["token"]).json()
    assert body["status"] == "retrying"
    assert body["error"] is None
    assert body["original_deleted_at"] is None
    page = api_client.get(f"/jobs/{created['id']}/", HTTP_X_JOB_TOKEN=created["token"])
    assert page.status_code == 200
    assert "A service was briefly unavailable. Trying again shortly" in page.content.decode()


def test_a_database_outage_at_claim_time_leaves_the_job_queued_and_tries_again(
    api_client: Any,
    consent_fields: Any,
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
    republished: list[tuple[str, float]],
) -> None:
    job = queued_job(api_client, consent_fields, django_capture_on_commit_callbacks)

    def database_gone(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    real_claim = services.claim_job
    monkeypatch.setattr(services, "claim_job", database_gone)
    generate_portraits(str(job.id))  # the message is not lost: it is published again
    assert republished and republished[0][0] == str(job.id)
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and job.original_deleted_at is None

    monkeypatch.setattr(services, "claim_job", real_claim)
    generate_portraits(str(job.id))
    job.refresh_from_db()
    assert job.status == JobStatus.DONE


def test_storing_results_retries_a_brief_storage_outage_in_place(
    api_client: Any,
    consent_fields: Any,
    settings: Any,
    storage_dir: Path,
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
    republished: list[tuple[str, float]],
) -> None:
    with failing_storage(settings, storage_dir) as storage_backend:
        job = queued_job(api_client, consent_fields, django_capture_on_commit_callbacks)
        real_complete = services.complete_job
        calls = {"n": 0}

        def complete_while_storage_recovers(job_id: str, result: Any) -> bool:
            calls["n"] += 1
            storage_backend.failing = {"save"} if calls["n"] == 1 else set()
            return real_complete(job_id, result)

        monkeypatch.setattr(services, "complete_job", complete_while_storage_recovers)
        generate_portraits(str(job.id))
    job.refresh_from_db()
    assert calls["n"] == 2
    assert job.status == JobStatus.DONE
    # The first attempt's key was shredded; the published results use the second one.
    results_keys = DataKey.objects.filter(purpose="results")
    assert results_keys.count() == 2
    assert results_keys.filter(destroyed_at__isnull=True).get().id == job.results_key_id
    assert republished == []


def test_when_storing_fails_for_good_the_results_key_is_shredded(
    api_client: Any,
    consent_fields: Any,
    settings: Any,
    storage_dir: Path,
    django_capture_on_commit_callbacks: Any,
    republished: list[tuple[str, float]],
) -> None:
    with failing_storage(settings, storage_dir) as storage_backend:
        job = queued_job(api_client, consent_fields, django_capture_on_commit_callbacks)
        real_put = services.storage.put_object

        def put(key: str, data: bytes) -> str:
            if key.startswith("results/"):
                # Storage dies after the first result object, and stays down for deleting too.
                written = real_put(key, data)
                storage_backend.failing = {"save", "delete", "exists", "listdir"}
                return written
            return real_put(key, data)

        services.storage.put_object = put  # type: ignore[assignment]
        try:
            with pytest.raises(Exception):  # noqa: B017 - whatever storage raised, the task re-raises it
                generate_portraits(str(job.id))
        finally:
            services.storage.put_object = real_put  # type: ignore[assignment]
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.original_deleted_at is not None
    keys = DataKey.objects.filter(purpose="results")
    assert keys.count() == len(gateway.STORE_RETRY_PAUSES_SECONDS) + 1
    # Every results key is shredded: the object left in storage can never be read.
    assert not keys.filter(destroyed_at__isnull=True).exists()
    assert list(storage_dir.glob("results/*/*"))  # storage refused its deletion


def test_a_job_fails_when_no_retry_can_start_before_the_limit(
    api_client: Any,
    consent_fields: Any,
    settings: Any,
    storage_dir: Path,
    django_capture_on_commit_callbacks: Any,
    republished: list[tuple[str, float]],
) -> None:
    settings.PROPORTRAIT_ORIGINAL_DEADMAN_MINUTES = 15
    with failing_storage(settings, storage_dir) as storage_backend:
        job = queued_job(api_client, consent_fields, django_capture_on_commit_callbacks)
        storage_backend.failing = {"open"}
        with time_machine.travel(job.created_at + timedelta(minutes=14, seconds=29), tick=False):
            generate_portraits(str(job.id))
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error_code == "generation_failed"
    assert job.original_deleted_at is not None
    assert republished == []
