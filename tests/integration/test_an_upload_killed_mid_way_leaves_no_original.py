"""A web process killed (SIGKILL) between writing the original and committing its job leaves an
object no job row knows about. It can never be decrypted (its key was never committed), and the
storage sweep deletes it before the dead-man limit. Both stacks."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from compliance.models import AuditEvent, ConsentDocument, ConsentRecord
from portraits import services
from portraits.models import DataKey, PortraitJob
from portraits.sweeper import run_deadman_round
from tests import photos
from tests.support import REPO, worker_database_url

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Runs create_job in a separate process that kills itself, with SIGKILL, right after the
# ciphertext reached storage and before the transaction commits: no clean-up code runs.
UPLOAD_AND_DIE = textwrap.dedent(
    """
    import os, signal, sys
    import django
    django.setup()
    from compliance.services import ConsentAct
    from compliance.models import ConsentDocument, ConsentKind
    from portraits import services

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    services.record_biometric_consent = die
    version = ConsentDocument.objects.filter(kind=ConsentKind.BIOMETRIC).order_by("-version")[0].version
    services.create_job(
        photo=open(sys.argv[1], "rb").read(),
        consent=ConsentAct(checked=True, signature_name="Jane Example", document_version=version),
        client=services.ClientInfo(ip="192.0.2.1"),
        style_slug="corporate-grey",
    )
    """
)


def test_an_original_orphaned_by_a_killed_upload_is_deleted_by_the_storage_sweep(
    tmp_path: Path, storage_dir: Path, settings: Any
) -> None:
    assert ConsentDocument.objects.exists()
    photo = tmp_path / "selfie.jpg"
    photo.write_bytes(photos.face_jpeg())
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "PROPORTRAIT_STORAGE_DIR": str(storage_dir),
        "PROPORTRAIT_MIN_FREE_DISK_MB": "0",
    }
    env.pop("PROPORTRAIT_TEST_DATABASE_NAME", None)
    result = subprocess.run(
        [sys.executable, "-c", UPLOAD_AND_DIE, str(photo)],
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=180,
    )
    assert result.returncode == -9, result.stderr.decode(errors="replace")[-2000:]

    # The killed upload left ciphertext behind, and nothing else: no job, no key, no consent.
    left = sorted(storage_dir.glob("originals/*.bin"))
    assert len(left) == 1
    assert PortraitJob.objects.count() == 0
    assert DataKey.objects.count() == 0  # never committed: the object can never be decrypted
    assert ConsentRecord.objects.count() == 0
    assert photos.face_jpeg()[:200] not in left[0].read_bytes()

    # Young: it may be an upload still committing, so a sweep now leaves it.
    assert run_deadman_round().orphan_objects_deleted == 0
    assert left[0].exists()
    # One sweep period before the limit, it is gone, and the audit log says so.
    limit = timedelta(minutes=settings.PROPORTRAIT_ORIGINAL_DEADMAN_MINUTES)
    at = timezone.now() + limit - timedelta(seconds=settings.PROPORTRAIT_SWEEP_SECONDS - 1)
    with time_machine.travel(at, tick=False):
        report = run_deadman_round()
    assert report.orphan_objects_deleted == 1
    assert not list(storage_dir.glob("originals/*"))
    event = AuditEvent.objects.get(action="original.orphan_deleted")
    assert event.object_id == f"originals/{left[0].name}"
    assert event.data["job_row"] is False


def test_an_object_left_when_storage_failed_at_destruction_is_deleted_once_storage_is_back(
    api_client: Any, consent_fields: Any, settings: Any, storage_dir: Path, monkeypatch: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.faults import failing_storage

    monkeypatch.setattr(services, "publish_generation", lambda job: True)
    with failing_storage(settings, storage_dir) as storage_backend:
        response = api_client.post(
            "/api/v1/jobs/",
            {**consent_fields, "photo": SimpleUploadedFile("a.jpg", photos.face_jpeg())},
            format="multipart",
        )
        assert response.status_code == 201, response.content
        job = PortraitJob.objects.get(id=response.json()["id"])
        storage_backend.failing = {"delete", "exists"}
        services.destroy_original(job, reason="job_ended")
        # The key is shredded at once; the object stays while storage refuses.
        assert DataKey.objects.get(id=job.original_key_id).destroyed_at is not None
        assert list(storage_dir.glob("originals/*"))
        storage_backend.failing = set()
        report = run_deadman_round()
    assert report.orphan_objects_deleted == 1
    assert not list(storage_dir.glob("originals/*"))
