"""The job row is its own outbox: an upload while the broker is down is accepted (201), its task
is published from the database by the relay once the broker answers again, and the job ends
done. No ghost jobs: every accepted job runs or is failed honestly by the dead-man limit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from compliance.models import AuditEvent, ConsentRecord
from gpu_worker.tasks import generate_portraits
from portraits.models import JobStatus, PortraitJob
from portraits.sweeper import republish_waiting_jobs
from tests import photos
from tests.faults import broker_down

pytestmark = pytest.mark.django_db


def upload(client: Any, fields: dict[str, Any]) -> Any:
    return client.post(
        "/api/v1/jobs/",
        {**fields, "photo": SimpleUploadedFile("a.jpg", photos.face_jpeg())},
        format="multipart",
    )


def test_an_upload_during_a_broker_outage_is_accepted_and_runs_when_the_broker_is_back(
    api_client: Any,
    consent_fields: Any,
    settings: Any,
    monkeypatch: Any,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    monkeypatch.setattr(generate_portraits, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(api_client, consent_fields)
    assert response.status_code == 201, response.content
    job = PortraitJob.objects.get(id=response.json()["id"])
    assert job.status == JobStatus.QUEUED
    assert ConsentRecord.objects.filter(job_id=job.id).count() == 1
    assert AuditEvent.objects.filter(action="photo.received", object_id=str(job.id)).exists()
    assert AuditEvent.objects.filter(action="job.queued", object_id=str(job.id)).count() == 1

    # Still down at the first relay round: nothing is lost, the job waits.
    due = job.next_attempt_at + timedelta(seconds=1)
    with time_machine.travel(due, tick=False):
        assert republish_waiting_jobs() == 0
    assert PortraitJob.objects.get(id=job.id).status == JobStatus.QUEUED

    # The broker is back: the next relay round publishes it and it runs.
    monkeypatch.undo()
    later = due + timedelta(seconds=settings.PROPORTRAIT_REPUBLISH_SECONDS + 1)
    with time_machine.travel(later, tick=False):
        assert republish_waiting_jobs() == 1
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert job.original_deleted_at is not None
    assert AuditEvent.objects.filter(action="job.republished", object_id=str(job.id)).count() == 1


def test_a_lost_message_is_published_again_once_and_only_for_waiting_jobs(
    api_client: Any,
    consent_fields: Any,
    settings: Any,
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    published: list[str] = []
    monkeypatch.setattr(generate_portraits, "apply_async", lambda args, **kw: published.append(args[0]))
    with django_capture_on_commit_callbacks(execute=True):
        waiting = PortraitJob.objects.get(id=upload(api_client, consent_fields).json()["id"])
        finished = PortraitJob.objects.get(id=upload(api_client, consent_fields).json()["id"])
    assert published == [str(waiting.id), str(finished.id)]  # then the broker lost both messages
    PortraitJob.objects.filter(id=finished.id).update(status=JobStatus.FAILED)
    published.clear()

    assert republish_waiting_jobs() == 0  # too early: the message may still be on its way
    at = timezone.now() + timedelta(seconds=settings.PROPORTRAIT_REPUBLISH_SECONDS + 1)
    with time_machine.travel(at, tick=False):
        assert republish_waiting_jobs() == 1
        assert republish_waiting_jobs() == 0  # a second relay (another process) finds it claimed
    assert published == [str(waiting.id)]


def test_the_relay_leaves_jobs_past_the_deadman_age_to_the_sweeper(
    api_client: Any, consent_fields: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    published: list[str] = []
    monkeypatch.setattr(generate_portraits, "apply_async", lambda args, **kw: published.append(args[0]))
    with django_capture_on_commit_callbacks(execute=False):
        upload(api_client, consent_fields)
    with time_machine.travel(timezone.now() + timedelta(hours=1), tick=False):
        assert republish_waiting_jobs() == 0
    assert published == []
