"""Embedded default: a 0-byte message in the filesystem broker's queue (what a full disk left
behind) is quarantined, and a real worker goes on to process the next job instead of dying."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from portraits.models import JobStatus, PortraitJob
from tests import photos
from tests.support import start_worker, wait_for, wait_until_ready

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.mark.skipif(
    not settings.CELERY_BROKER_URL.startswith("filesystem://"), reason="the embedded default's broker"
)
def test_a_worker_skips_an_empty_message_and_processes_the_next_job(
    api_client: Any, consent_fields: Any, storage_dir: Path, tmp_path: Path
) -> None:
    log_path = tmp_path / "worker.log"
    process = start_worker(log_path, {"PROPORTRAIT_STORAGE_DIR": str(storage_dir)})
    empty = Path(settings.CELERY_BROKER_DIR) / "queue" / "0000_left-by-a-full-disk.gpu.msg"
    empty.write_bytes(b"")
    try:
        wait_until_ready(log_path, process)
        response = api_client.post(
            "/api/v1/jobs/",
            {**consent_fields, "photo": SimpleUploadedFile("a.jpg", photos.face_jpeg())},
            format="multipart",
        )
        assert response.status_code == 201
        job_id = response.json()["id"]
        finished = wait_for(lambda: PortraitJob.objects.get(id=job_id).status == JobStatus.DONE, timeout=180)
        log = log_path.read_text(errors="replace")
        assert finished, log[-3000:]
        assert process.poll() is None, log[-3000:]
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    assert not empty.exists()
    assert (Path(settings.CELERY_BROKER_DIR) / "quarantine" / empty.name).exists()
    assert "moved to quarantine" in log_path.read_text(errors="replace")
