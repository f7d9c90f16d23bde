"""Real processes: a gunicorn web process whose broker is unreachable (a URL to a closed port)
accepts an upload with 201; the job waits in the database, and once a worker with a working
broker runs, the relay publishes the job and it ends done. No ghost job, no lost job. Both stacks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from compliance.models import AuditEvent, ConsentKind
from compliance.services import current_document
from portraits.models import JobStatus, PortraitJob
from tests import photos
from tests.support import REPO, start_worker, wait_for, wait_until_ready, worker_database_url

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def test_an_upload_accepted_while_the_broker_is_down_is_processed_when_it_is_back(
    storage_dir: Path, tmp_path: Path
) -> None:
    common = {
        "DATABASE_URL": worker_database_url(),
        "PROPORTRAIT_STORAGE_DIR": str(storage_dir),
        "PROPORTRAIT_REPUBLISH_SECONDS": "2",
        "PROPORTRAIT_SWEEP_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    env = {**os.environ, **common, "CELERY_BROKER_URL": "redis://127.0.0.1:1/0"}
    env.pop("PROPORTRAIT_TEST_DATABASE_NAME", None)
    port = free_port()
    web_log = (tmp_path / "web.log").open("wb")
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "proportrait.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
    ]
    web = subprocess.Popen(
        [*command, "--workers", "1", "--no-control-socket", "--env", "PROPORTRAIT_DEADMAN_TIMER=false"],
        cwd=REPO,
        env=env,
        stdout=web_log,
        stderr=subprocess.STDOUT,
    )
    worker: Any = None
    try:
        base = f"http://127.0.0.1:{port}"

        def web_up() -> bool:
            try:
                return requests.get(f"{base}/api/v1/styles/", timeout=5).status_code == 200
            except requests.RequestException:
                return False

        assert wait_for(web_up, timeout=60), (tmp_path / "web.log").read_text(errors="replace")[-3000:]
        response = requests.post(
            f"{base}/api/v1/jobs/",
            data={
                "consent": "true",
                "consent_version": current_document(ConsentKind.BIOMETRIC).version,
                "signature": "Jane Example",
                "style": "corporate-grey",
            },
            files={"photo": ("selfie.jpg", photos.face_jpeg(), "image/jpeg")},
            timeout=60,
        )
        assert response.status_code == 201, response.text
        job_id = response.json()["id"]
        assert PortraitJob.objects.get(id=job_id).status == JobStatus.QUEUED
        assert "broker unavailable" in (tmp_path / "web.log").read_text(errors="replace")

        # The broker is back (a worker on the working broker, whose timer runs the relay).
        worker = start_worker(tmp_path / "worker.log", common)
        wait_until_ready(tmp_path / "worker.log", worker)
        done = wait_for(lambda: PortraitJob.objects.get(id=job_id).is_finished, timeout=180)
        assert done, (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
    finally:
        stop(web)
        if worker is not None:
            stop(worker)
        web_log.close()
    job = PortraitJob.objects.get(id=job_id)
    assert job.status == JobStatus.DONE, (job.error_code, job.error_message)
    assert job.original_deleted_at is not None
    assert not list(storage_dir.glob("originals/*"))
    assert AuditEvent.objects.filter(action="job.republished", object_id=job_id).exists()
