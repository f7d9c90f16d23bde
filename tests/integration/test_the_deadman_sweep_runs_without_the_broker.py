"""The dead-man sweep runs on a timer inside every worker and web process and needs only the
database and storage: with the broker unreachable (a URL to a closed port, so no shared broker
is stopped), a real worker process and a real gunicorn process each destroy an original past
the limit. Both stacks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from compliance.models import AuditEvent
from portraits import services
from portraits.models import DataKey, JobStatus, PortraitJob
from tests import photos
from tests.support import REPO, wait_for, worker_database_url

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def command_for(kind: str) -> list[str]:
    if kind == "worker":
        return [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "proportrait",
            "worker",
            "-Q",
            "gpu,default",
            "-P",
            "solo",
        ]
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "proportrait.wsgi:application",
        "--bind",
        f"127.0.0.1:{free_port()}",
        "--workers",
        "1",
        "--no-control-socket",
    ]


@pytest.mark.parametrize("kind", ["worker", "web"])
def test_a_process_destroys_an_original_past_the_limit_while_the_broker_is_unreachable(
    kind: str,
    api_client: Any,
    consent_fields: Any,
    monkeypatch: Any,
    storage_dir: Path,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    monkeypatch.setattr(services, "publish_generation", lambda job: False)  # the broker is down
    response = api_client.post(
        "/api/v1/jobs/",
        {**consent_fields, "photo": SimpleUploadedFile("a.jpg", photos.face_jpeg())},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    job = PortraitJob.objects.get(id=response.json()["id"])
    # Past the limit: the upload happened 20 minutes ago (limit 15).
    PortraitJob.objects.filter(id=job.id).update(created_at=timezone.now() - timedelta(minutes=20))
    assert list(storage_dir.glob("originals/*"))

    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": UNREACHABLE_BROKER,
        "PROPORTRAIT_STORAGE_DIR": str(storage_dir),
        "PROPORTRAIT_SWEEP_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("PROPORTRAIT_TEST_DATABASE_NAME", None)
    log_path = tmp_path / f"{kind}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command_for(kind), cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        destroyed = wait_for(
            lambda: PortraitJob.objects.get(id=job.id).original_deleted_at is not None,
            timeout=120,
            interval=0.5,
        )
        assert destroyed, log_path.read_text(errors="replace")[-3000:]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert DataKey.objects.get(id=job.original_key_id).destroyed_at is not None
    assert not list(storage_dir.glob("originals/*"))
    event = AuditEvent.objects.get(action="original.destroyed", object_id=str(job.id))
    assert event.data["reason"] == "deadman_sweeper"
    assert event.data["object_deleted"] is True and event.data["data_key_shredded"] is True
