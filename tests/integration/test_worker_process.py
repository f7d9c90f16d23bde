"""A real Celery worker process, over the configured broker (filesystem in the embedded run,
Redis in the production-like run), against the test database."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from portraits import services
from portraits.models import JobStatus, PortraitJob
from tests import photos
from tests.support import start_worker, wait_for, wait_until_ready

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def _tasks_go_to_the_broker() -> None:
    from proportrait.celery import app as celery_app

    assert not celery_app.conf.task_always_eager


@pytest.fixture
def worker_env(storage_dir: Path) -> dict[str, str]:
    return {"PROPORTRAIT_STORAGE_DIR": str(storage_dir)}


def spawn(tmp_path: Path, env: dict[str, str]) -> Any:
    process = start_worker(tmp_path / "worker.log", env)
    wait_until_ready(tmp_path / "worker.log", process)
    return process


@pytest.fixture
def worker(tmp_path: Path, worker_env: dict[str, str]) -> Iterator[Any]:
    process = spawn(tmp_path, worker_env)
    yield process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except Exception:
            process.kill()


def diagnosis(tmp_path: Path) -> str:
    """What a failure message needs: the worker's log and what waits in the broker."""
    from django.conf import settings

    waiting = sorted(p.name for p in Path(settings.CELERY_BROKER_DIR, "queue").glob("*"))
    log = (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
    return f"broker queue folder: {waiting}\nworker log:\n{log}"


def submit(client: Any, fields: dict[str, Any]) -> dict[str, Any]:
    response = client.post(
        "/api/v1/jobs/",
        {**fields, "photo": SimpleUploadedFile(photos.UPLOAD_FILENAME, photos.face_jpeg())},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    return response.json()


def refreshed(job_id: str) -> PortraitJob:
    return PortraitJob.objects.get(id=job_id)


def test_a_real_worker_generates_portraits_and_destroys_the_original(
    api_client: Any, consent_fields: Any, worker: Any, tmp_path: Path, storage_dir: Path
) -> None:
    created = submit(api_client, consent_fields)
    finished = wait_for(
        lambda: refreshed(created["id"]).status in {JobStatus.DONE, JobStatus.FAILED}, timeout=180
    )
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert finished, f"job did not finish; worker log:\n{log[-3000:]}"
    job = refreshed(created["id"])
    assert job.status == JobStatus.DONE, (job.error_code, log[-3000:])
    # Done by the worker process, not in this one.
    assert "gpu_worker.generate_portraits" in log and " received" in log, log[-3000:]
    assert job.portraits.count() == 4
    assert job.original_deleted_at is not None
    assert not list(storage_dir.glob("originals/*"))
    # The worker's log names the job id, never the photo's file name or its metadata.
    assert photos.UPLOAD_FILENAME not in log
    assert photos.EXIF_MAKE not in log
    # Previews decrypt and serve through the signed URL.
    body = api_client.get(f"/api/v1/jobs/{created['id']}/", HTTP_X_JOB_TOKEN=created["token"]).json()
    assert api_client.get(body["portraits"][0]["preview_url"]).status_code == 200


def test_a_worker_killed_mid_job_leaves_nothing_once_the_sweeper_runs(
    api_client: Any, consent_fields: Any, tmp_path: Path, worker_env: dict[str, str], storage_dir: Path
) -> None:
    process = spawn(
        tmp_path,
        {
            **worker_env,
            "PROPORTRAIT_JOB_GATEWAY": "tests.support.SlowJobGateway",
            "PROPORTRAIT_TEST_SLOW_SECONDS": "60",
        },
    )
    try:
        created = submit(api_client, consent_fields)
        started = wait_for(lambda: refreshed(created["id"]).status == JobStatus.PROCESSING, timeout=120)
        assert started, diagnosis(tmp_path)
        process.kill()  # SIGKILL: no clean-up code of the worker runs (solo pool: one process)
        process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    job = refreshed(created["id"])
    assert job.status == JobStatus.PROCESSING and job.original_deleted_at is None
    assert list(storage_dir.glob("originals/*"))  # the killed worker left it behind
    assert services.destroy_stale_originals() == 0  # younger than the dead-man limit
    destroyed = services.destroy_stale_originals(now=timezone.now() + timedelta(minutes=16))
    assert destroyed == 1
    job = refreshed(created["id"])
    assert job.status == JobStatus.FAILED
    assert job.original_deleted_at is not None
    assert job.original_key.destroyed_at is not None
    assert not list(storage_dir.glob("originals/*"))
