"""The sweeper destroys originals at the limit minus one sweep period, so an original created
just after a sweep is gone before it is older than the limit (DESIGN: never older than it)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from compliance.models import ConsentKind
from compliance.services import current_document
from portraits import services
from portraits.models import JobStatus, PortraitJob
from tests import photos
from tests.support import REPO

pytestmark = pytest.mark.django_db


def test_it_destroys_an_original_one_sweep_period_before_the_limit(
    api_client: Any, consent_fields: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.PROPORTRAIT_ORIGINAL_DEADMAN_MINUTES = 3
    settings.PROPORTRAIT_SWEEP_SECONDS = 30
    # The notice states the dead-man limit, so changing it publishes a new version to consent to.
    notice = current_document(ConsentKind.BIOMETRIC)
    assert "3 minutes" in notice.text
    with django_capture_on_commit_callbacks(execute=False):
        response = api_client.post(
            "/api/v1/jobs/",
            {
                **consent_fields,
                "consent_version": notice.version,
                "photo": SimpleUploadedFile("a.jpg", photos.face_jpeg()),
            },
            format="multipart",
        )
    job = PortraitJob.objects.get(id=response.json()["id"])
    limit = timedelta(minutes=3)
    # A sweep just before limit - period leaves it; the next sweep (one period later) would be
    # past the limit, so the sweep at limit - period + 1 s must already destroy it.
    with time_machine.travel(job.created_at + limit - timedelta(seconds=31), tick=False):
        assert services.destroy_stale_originals() == 0
    with time_machine.travel(job.created_at + limit - timedelta(seconds=29), tick=False):
        assert services.destroy_stale_originals() == 1
    job.refresh_from_db()
    assert job.original_deleted_at is not None
    assert job.original_deleted_at - job.created_at < limit
    assert job.status == JobStatus.FAILED


def test_settings_refuse_a_sweep_period_as_long_as_the_limit() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=REPO,
        env={
            **os.environ,
            "PROPORTRAIT_ORIGINAL_DEADMAN_MINUTES": "1",
            "PROPORTRAIT_SWEEP_SECONDS": "60",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "PROPORTRAIT_SWEEP_SECONDS" in result.stderr
