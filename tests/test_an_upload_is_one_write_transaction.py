"""The web tier's write path is short: one write transaction per upload (data key, job, consent
record, audit events), the consent document read once, and on the embedded default SQLite in
WAL mode with synchronous=NORMAL and persistent connections, so readers never wait on writers."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from portraits.models import PortraitJob
from tests import photos


def verb(sql: str) -> str:
    return sql.lstrip().split(" ", 1)[0].upper()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_every_write_of_an_upload_happens_in_one_transaction(
    api_client: Any, consent_fields: Any, monkeypatch: Any
) -> None:
    from gpu_worker.tasks import generate_portraits

    published: list[Any] = []
    monkeypatch.setattr(generate_portraits, "apply_async", lambda *args, **kwargs: published.append(args))
    statements: list[tuple[str, bool, int]] = []
    transactions = {"n": 0, "open": False}

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if connection.in_atomic_block and not transactions["open"]:
            transactions["n"] += 1
        transactions["open"] = connection.in_atomic_block
        statements.append((sql, connection.in_atomic_block, transactions["n"]))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        response = api_client.post(
            "/api/v1/jobs/",
            {**consent_fields, "photo": SimpleUploadedFile("a.jpg", photos.face_jpeg())},
            format="multipart",
        )
    assert response.status_code == 201, response.content
    assert len(published) == 1  # after commit, with no write of its own
    writes = [
        (sql, atomic, number)
        for sql, atomic, number in statements
        if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    written_tables = {sql.split('"')[1] for sql, _, _ in writes}
    assert {
        "portraits_datakey",
        "portraits_portraitjob",
        "compliance_consentrecord",
        "compliance_auditevent",
    } <= written_tables
    assert all(atomic for _, atomic, _ in writes), [sql[:60] for sql, atomic, _ in writes if not atomic]
    assert {number for _, _, number in writes} == {1}
    document_reads = [
        sql
        for sql, _, _ in statements
        if "compliance_consentdocument" in sql and sql.lstrip().upper().startswith("SELECT")
    ]
    assert len(document_reads) == 1
    assert PortraitJob.objects.count() == 1


@pytest.mark.django_db
def test_the_embedded_database_runs_in_wal_mode_with_normal_sync_and_persistent_connections() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only: the embedded default")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone()[0] == 1  # NORMAL
    assert connection.settings_dict["CONN_MAX_AGE"] is None
