"""An original's key lives only in the volatile key store. When it is lost (time-to-live passed, the
store restarted) the job fails with `original_unavailable`, destroys what is left, and asks the
person to upload again; when the store cannot be reached, uploads are refused and nothing is stored."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from compliance.models import ConsentRecord
from gpu_worker.tasks import generate_portraits
from portraits import keystore
from portraits.models import DataKey, JobStatus, PortraitJob
from tests import photos
from tests.support import REPO, wait_for

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def upload(client: Any, fields: dict[str, Any]) -> Any:
    return client.post(
        "/api/v1/jobs/",
        {**fields, "photo": SimpleUploadedFile(photos.UPLOAD_FILENAME, photos.face_jpeg())},
        format="multipart",
    )


def assert_failed_cleanly(client: Any, created: dict[str, Any], storage_dir: Path) -> None:
    job = PortraitJob.objects.select_related("original_key").get(id=created["id"])
    assert job.status == JobStatus.FAILED
    assert job.error_code == "original_unavailable"
    assert job.original_deleted_at is not None
    assert job.original_key is not None and job.original_key.destroyed_at is not None
    assert job.results_key is None and job.portraits.count() == 0
    assert not [path for path in storage_dir.rglob("*") if path.is_file()]
    # What the person is told, through the API and on the job page.
    body = client.get(f"/api/v1/jobs/{job.id}/", HTTP_X_JOB_TOKEN=created["token"]).json()
    assert body["status"] == "failed"
    assert body["error"]["code"] == "original_unavailable"
    assert "please upload it again" in body["error"]["message"]
    page = client.get(f"/jobs/{job.id}/", HTTP_X_JOB_TOKEN=created["token"])
    assert page.status_code == 200
    assert "please upload it again" in page.content.decode()


def test_it_fails_the_job_and_asks_for_a_new_upload_when_the_key_is_gone(
    api_client: Any, consent_fields: dict[str, Any], storage_dir: Path
) -> None:
    response = upload(api_client, consent_fields)
    assert response.status_code == 201, response.content
    created = response.json()
    job = PortraitJob.objects.get(id=created["id"])
    # What a time-to-live running out (or a Redis restart) does.
    assert keystore.get_keystore().delete(str(job.original_key_id))

    generate_portraits(str(job.id))

    assert_failed_cleanly(api_client, created, storage_dir)


def test_it_fails_the_job_when_the_key_holder_restarted(
    api_client: Any, consent_fields: dict[str, Any], storage_dir: Path, settings: Any, tmp_path: Path
) -> None:
    settings.PROPORTRAIT_KEYSTORE_URL = ""  # the embedded default's key-holder process
    socket_path = tmp_path / "keyholder" / "keys.sock"
    settings.PROPORTRAIT_KEYSTORE_SOCKET = socket_path
    holder = subprocess.Popen(
        [sys.executable, "-m", "portraits.keystore", "serve", "--socket", str(socket_path)], cwd=REPO
    )
    try:
        assert wait_for(socket_path.exists, timeout=10)
        response = upload(api_client, consent_fields)
        assert response.status_code == 201, response.content
        created = response.json()
        job = PortraitJob.objects.get(id=created["id"])
        assert keystore.get_keystore().get(str(job.original_key_id)) is not None
        # The holder is killed (a crash, a reboot): its memory, and the key, are gone.
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)

        generate_portraits(str(job.id))  # finds a fresh, empty holder

        assert_failed_cleanly(api_client, created, storage_dir)
    finally:
        if holder.poll() is None:
            holder.kill()
        # Stop the holder the client started in place of the killed one.
        keystore.SocketKeyStore(socket_path, spawn=False).shutdown()


def test_it_refuses_uploads_and_stores_nothing_when_the_key_store_is_unreachable(
    api_client: Any, client: Any, consent_fields: dict[str, Any], storage_dir: Path, settings: Any
) -> None:
    settings.PROPORTRAIT_KEYSTORE_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    response = upload(api_client, consent_fields)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    page = client.post(
        "/try/",
        {**consent_fields, "photo": SimpleUploadedFile(photos.UPLOAD_FILENAME, photos.face_jpeg())},
    )
    assert page.status_code == 503
    assert "Nothing was stored" in page.content.decode()
    assert not PortraitJob.objects.exists()
    assert not DataKey.objects.exists()
    assert not ConsentRecord.objects.exists()
    assert not [path for path in storage_dir.rglob("*") if path.is_file()]
