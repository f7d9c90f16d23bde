"""Data keys that no job points at are shredded by the sweeper, also when other jobs have no
results key (NULL): `NOT IN (subquery with NULLs)` never matches, so the old query found none.
Runs on both stacks (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from compliance.models import AuditEvent
from portraits import crypto, services
from portraits.models import DataKey, DataKeyPurpose, PortraitJob
from tests import photos

pytestmark = pytest.mark.django_db


def queued_job(client: Any, fields: dict[str, Any], capture: Any) -> PortraitJob:
    with capture(execute=False):
        response = client.post(
            "/api/v1/jobs/",
            {**fields, "photo": SimpleUploadedFile("a.jpg", photos.face_jpeg())},
            format="multipart",
        )
    assert response.status_code == 201, response.content
    return PortraitJob.objects.get(id=response.json()["id"])


def test_it_shreds_orphaned_keys_while_jobs_without_results_exist(
    api_client: Any, consent_fields: Any, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    settings.PROPORTRAIT_ORIGINAL_DEADMAN_MINUTES = 15
    # Jobs whose results_key is NULL (queued), whose original key is live.
    jobs = [queued_job(api_client, consent_fields, django_capture_on_commit_callbacks) for _ in range(2)]
    done_key, _ = crypto.create_data_key(DataKeyPurpose.RESULTS)
    PortraitJob.objects.filter(id=jobs[1].id).update(results_key=done_key)
    # Keys a crashed process created and no job ever pointed at.
    orphans = [
        crypto.create_data_key(purpose)[0] for purpose in (DataKeyPurpose.ORIGINAL, DataKeyPurpose.RESULTS)
    ]
    export_key, _ = crypto.create_data_key(DataKeyPurpose.EXPORT)

    later = timezone.now() + timedelta(minutes=16)
    with time_machine.travel(later, tick=False):
        assert services.shred_orphaned_keys(cutoff=later - services.deadman_age()) == 2

    for orphan in orphans:
        orphan.refresh_from_db()
        assert orphan.destroyed_at is not None and orphan.wrapped_key is None
        assert AuditEvent.objects.filter(action="data_key.orphan_shredded", object_id=str(orphan.id)).exists()
    # Keys a job points at, and keys of other purposes, stay.
    for job in jobs:
        assert DataKey.objects.get(id=job.original_key_id).destroyed_at is None
    assert DataKey.objects.get(id=done_key.id).destroyed_at is None
    assert DataKey.objects.get(id=export_key.id).destroyed_at is None


def test_the_sweeper_round_shreds_them_too(
    api_client: Any, consent_fields: Any, django_capture_on_commit_callbacks: Any
) -> None:
    queued_job(api_client, consent_fields, django_capture_on_commit_callbacks)
    orphan, _ = crypto.create_data_key(DataKeyPurpose.RESULTS)
    with time_machine.travel(timezone.now() + timedelta(hours=1), tick=False):
        # The stale job's original and the orphaned key.
        assert services.destroy_stale_originals() == 2
    orphan.refresh_from_db()
    assert orphan.destroyed_at is not None


def test_it_leaves_young_orphans_alone(db: Any) -> None:
    # A key younger than the dead-man age may belong to an upload that is still committing.
    young, _ = crypto.create_data_key(DataKeyPurpose.ORIGINAL)
    assert services.destroy_stale_originals() == 0
    young.refresh_from_db()
    assert young.destroyed_at is None
