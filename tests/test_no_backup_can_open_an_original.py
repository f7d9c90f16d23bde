"""A database backup and a storage copy taken while a job runs hold nothing that opens its original,
even together with the master key: the original's data key lives only in the volatile key store.

Runs on both stacks: on SQLite the backup is a copy of the database file, on PostgreSQL it is a
`pg_dump` of the test database.
"""

from __future__ import annotations

import base64
import binascii
import re
import shutil
import signal
import sqlite3
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from gpu_worker.tasks import generate_portraits
from portraits import crypto, keystore, services, storage
from portraits.models import DataKey, DataKeyPurpose, JobStatus, PortraitJob
from tests import photos
from tests.support import start_worker, wait_for, wait_until_ready

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


# --- The backup, as an operator (or a thief) would have it


def take_database_backup(target: Path) -> bytes:
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        with sqlite3.connect(settings_dict["NAME"]) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        return target.read_bytes()
    command = [
        "pg_dump",
        "--no-owner",
        "-h",
        settings_dict.get("HOST") or "127.0.0.1",
        "-p",
        str(settings_dict.get("PORT") or 5432),
        "-U",
        settings_dict.get("USER") or "postgres",
        "-f",
        str(target),
        settings_dict["NAME"],
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return target.read_bytes()


def data_key_rows_in_backup(backup: Path) -> list[tuple[str, str, bytes | None]]:
    """(id, master key id, wrapped key) of every data key row the backup holds."""
    if connection.vendor == "sqlite":
        with sqlite3.connect(backup) as database:
            rows = database.execute("SELECT id, master_key_id, wrapped_key FROM portraits_datakey").fetchall()
        return [(str(uuid.UUID(str(row[0]))), row[1], bytes(row[2]) if row[2] else None) for row in rows]
    text = backup.read_text()
    match = re.search(r"COPY public\.portraits_datakey \(([^)]*)\) FROM stdin;\n(.*?)\n\\\.\n", text, re.S)
    assert match, "the dump has no data key table"
    columns = [name.strip().strip('"') for name in match.group(1).split(",")]
    found = []
    for line in match.group(2).splitlines():
        values = dict(zip(columns, line.split("\t"), strict=True))
        wrapped = values["wrapped_key"]
        raw = None if wrapped == r"\N" else binascii.unhexlify(wrapped.removeprefix(r"\\x"))
        found.append((values["id"], values["master_key_id"], raw))
    return found


def keys_an_attacker_can_unwrap(backup: Path) -> list[bytes]:
    """Every data key the backup yields to someone who also holds every master key."""
    _, master = crypto.master_keys()
    opened = []
    for data_key_id, master_key_id, wrapped in data_key_rows_in_backup(backup):
        if not wrapped or master_key_id not in master:
            continue
        aes = AESGCM(master[master_key_id])
        opened.append(aes.decrypt(wrapped[:12], wrapped[12:], data_key_id.encode()))
    return opened


def opens(raw_key: bytes, blob: bytes, associated_data: bytes) -> bytes | None:
    try:
        return crypto.decrypt(raw_key, blob, associated_data)
    except (InvalidTag, ValueError):
        return None


def encodings(value: bytes) -> list[bytes]:
    return [value, binascii.hexlify(value), base64.b64encode(value), base64.urlsafe_b64encode(value)]


# --- The attack, on backups taken while a job is alive


def assert_backups_open_nothing_of_the_original(
    job: PortraitJob, selfie: bytes, storage_dir: Path, tmp_path: Path
) -> None:
    # A results key and object as the control: the same attack must open those.
    results_key, raw_results_key = crypto.create_data_key(DataKeyPurpose.RESULTS)
    portrait_blob = crypto.encrypt(raw_results_key, b"a generated portrait", b"control")
    storage.put_object("results/control/0-full.bin", portrait_blob)

    # 1. The backups: the whole database, and a copy of every stored object.
    dump = tmp_path / "backup.db"
    dump_bytes = take_database_backup(dump)
    storage_copy = tmp_path / "storage-copy"
    shutil.copytree(storage_dir, storage_copy)
    copied_objects = {path: path.read_bytes() for path in storage_copy.rglob("*") if path.is_file()}
    original_blob = (storage_copy / services.original_object_key(job.id)).read_bytes()

    # 2. The attacker holds the master keys and unwraps every data key in the backup...
    unwrapped = keys_an_attacker_can_unwrap(dump)
    # ...which works: the results key of the control opens its portrait.
    assert any(opens(key, portrait_blob, b"control") == b"a generated portrait" for key in unwrapped)
    # ...but no key from the backup opens the original, nor any other copied object as it.
    for key in unwrapped:
        for blob in copied_objects.values():
            assert opens(key, blob, str(job.id).encode()) is None
    # The original's row is in the backup, without key material.
    rows = {row[0]: row for row in data_key_rows_in_backup(dump)}
    assert rows[str(job.original_key_id)][2] is None

    # 3. The key material itself is nowhere in the backups, in any encoding.
    held = keystore.get_keystore().get(str(job.original_key_id))
    assert held is not None, "the volatile store holds the key while the job runs"
    key_row = DataKey.objects.get(pk=job.original_key_id)
    raw_original_key = crypto.unwrap_data_key(key_row)
    for secret in [raw_original_key, held, crypto._get_volatile(key_row)[1]]:
        for encoded in encodings(secret):
            assert encoded not in dump_bytes
            assert all(encoded not in blob for blob in copied_objects.values())
    assert opens(raw_original_key, original_blob, str(job.id).encode()) == selfie  # the right key
    crypto.destroy_data_key(results_key)
    storage.delete_object("results/control/0-full.bin")


def upload(api_client: Any, consent_fields: dict[str, Any], selfie: bytes) -> PortraitJob:
    response = api_client.post(
        "/api/v1/jobs/",
        {**consent_fields, "photo": SimpleUploadedFile(photos.UPLOAD_FILENAME, selfie)},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    return PortraitJob.objects.select_related("original_key").get(id=response.json()["id"])


def test_it_keeps_no_key_that_opens_an_original_in_a_backup_taken_while_the_job_waits(
    api_client: Any, consent_fields: dict[str, Any], storage_dir: Path, tmp_path: Path
) -> None:
    selfie = photos.face_jpeg()
    job = upload(api_client, consent_fields, selfie)
    assert job.status == JobStatus.QUEUED and job.original_key is not None

    assert_backups_open_nothing_of_the_original(job, selfie, storage_dir, tmp_path)

    # The job itself is unharmed: the worker finds the key and finishes, then the key is gone.
    generate_portraits(str(job.id))
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error_code
    assert job.original_deleted_at is not None
    assert keystore.get_keystore().get(str(job.original_key_id)) is None


@pytest.mark.integration
def test_it_keeps_no_key_that_opens_an_original_in_a_backup_taken_while_a_worker_processes_it(
    api_client: Any, consent_fields: dict[str, Any], storage_dir: Path, tmp_path: Path
) -> None:
    from proportrait.celery import app as celery_app

    assert not celery_app.conf.task_always_eager
    log_path = tmp_path / "worker.log"
    worker = start_worker(
        log_path,
        {
            "PROPORTRAIT_STORAGE_DIR": str(storage_dir),
            "PROPORTRAIT_JOB_GATEWAY": "tests.support.SlowJobGateway",
            "PROPORTRAIT_TEST_SLOW_SECONDS": "8",
        },
    )
    try:
        wait_until_ready(log_path, worker)
        selfie = photos.face_jpeg()
        job = upload(api_client, consent_fields, selfie)
        processing = wait_for(
            lambda: PortraitJob.objects.get(id=job.id).status == JobStatus.PROCESSING, timeout=60
        )
        assert processing, log_path.read_text(errors="replace")[-3000:]

        assert_backups_open_nothing_of_the_original(job, selfie, storage_dir, tmp_path)

        done = wait_for(lambda: PortraitJob.objects.get(id=job.id).status == JobStatus.DONE, timeout=120)
        assert done, log_path.read_text(errors="replace")[-3000:]
        assert keystore.get_keystore().get(str(job.original_key_id)) is None
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
