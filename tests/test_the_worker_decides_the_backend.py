"""The worker that consumes the generation queue decides which backend runs, and what runs is
what the job stores and the audit log records (not what the web process was configured with).
A worker that does not consume the generation queue never loads a generator."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from compliance.models import AuditEvent
from portraits.models import JobStatus, PortraitJob
from tests import photos

pytestmark = pytest.mark.django_db


def test_it_records_the_backend_the_worker_ran_not_the_one_the_web_was_configured_with(
    api_client: Any,
    consent_fields: Any,
    settings: Any,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.PROPORTRAIT_BACKEND = "diffusion"  # the web process's setting
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api_client.post(
            "/api/v1/jobs/",
            {**consent_fields, "photo": SimpleUploadedFile("a.jpg", photos.face_jpeg())},
            format="multipart",
        )
    assert response.status_code == 201
    settings.PROPORTRAIT_BACKEND = "studio"  # the worker's setting
    for callback in callbacks:
        callback()
    job = PortraitJob.objects.get(id=response.json()["id"])
    assert job.status == JobStatus.DONE, (job.error_code, job.error_message)
    assert job.backend == "studio"
    started = AuditEvent.objects.get(action="job.processing_started", object_id=str(job.id))
    completed = AuditEvent.objects.get(action="job.completed", object_id=str(job.id))
    assert started.data["backend"] == "studio"
    assert completed.data["backend"] == "studio"


def test_only_workers_consuming_the_generation_queue_load_a_generator(
    settings: Any, monkeypatch: Any
) -> None:
    import gpu_worker.pipeline
    from proportrait import celery

    loaded: list[str] = []
    monkeypatch.setattr(gpu_worker.pipeline, "get_pipeline", lambda backend: loaded.append(backend))
    queues = celery.app.amqp.queues
    previous = queues._consume_from
    try:
        queues.select(["default"])
        celery.preload_pipeline()
        assert loaded == []
        queues.select(["default", settings.PROPORTRAIT_GENERATION_QUEUE])
        celery.preload_pipeline()
        assert loaded == [settings.PROPORTRAIT_BACKEND]
    finally:
        queues._consume_from = previous
