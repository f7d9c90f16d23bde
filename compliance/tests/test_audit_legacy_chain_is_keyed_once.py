"""Events written before the keyed chain (plain SHA-256) are re-chained once by migration 0007,
which records the old head and whether the old chain verified, and certificates follow."""

from __future__ import annotations

import hashlib
import importlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.apps import apps
from django.db import connection

from compliance.audit import verify_chain
from compliance.models import AuditChainHead, AuditEvent, DeletionCertificate
from compliance.tests.tamper import TRIGGER

pytestmark = pytest.mark.django_db
migration = importlib.import_module("compliance.migrations.0009_audit_evidence_versioned_registers")


def _legacy_hash(previous: str, *, occurred_at: datetime, action: str, data: dict[str, Any]) -> str:
    canonical = json.dumps(
        {
            "occurred_at": occurred_at.isoformat(timespec="microseconds"),
            "actor": "system",
            "action": action,
            "object_type": "job",
            "object_id": "j1",
            "data": data,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256((previous + canonical).encode()).hexdigest()


def _write_legacy_log(*, tamper_second: bool) -> list[str]:
    previous = "0" * 64
    hashes = []
    for number, (action, data) in enumerate([("job.created", {}), ("job.done", {"portraits": 4})], start=10):
        occurred_at = datetime(2026, 1, 1, 9, number, tzinfo=UTC)
        digest = _legacy_hash(previous, occurred_at=occurred_at, action=action, data=data)
        stored = {"portraits": 0} if tamper_second and data else data
        AuditEvent(
            sequence=number,  # legacy numbering had gaps
            occurred_at=occurred_at,
            actor="system",
            action=action,
            object_type="job",
            object_id="j1",
            data=stored,
            previous_hash=previous,
            hash=digest,
        ).save(force_insert=True)
        previous = digest
        hashes.append(digest)
    AuditChainHead.objects.update_or_create(id=1, defaults={"last_hash": previous, "last_sequence": 11})
    return hashes


def _run_migration_step() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE compliance_auditevent DISABLE TRIGGER {TRIGGER}")
        try:
            migration.key_the_chain(apps, None)
        finally:
            if connection.vendor == "postgresql":
                cursor.execute(f"ALTER TABLE compliance_auditevent ENABLE TRIGGER {TRIGGER}")


def test_an_intact_legacy_log_is_keyed_and_certificates_follow() -> None:
    legacy = _write_legacy_log(tamper_second=False)
    certificate = DeletionCertificate.objects.create(
        reference="r",
        reason="x",
        method="m",
        remains="r",
        backups="b",
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        completed_at=datetime(2026, 1, 1, tzinfo=UTC),
        audit_hashes=legacy,
    )

    _run_migration_step()

    assert verify_chain().ok
    assert list(AuditEvent.objects.values_list("sequence", flat=True)) == [1, 2, 3]
    marker = AuditEvent.objects.get(action="audit.chain_keyed")
    assert marker.data == {"legacy_head_hash": legacy[-1], "legacy_chain_intact": True, "events_keyed": 2}
    certificate.refresh_from_db()
    assert (
        certificate.audit_hashes
        == list(AuditEvent.objects.order_by("sequence").values_list("hash", flat=True))[:2]
    )


def test_a_legacy_log_that_was_already_tampered_with_is_recorded_as_such() -> None:
    _write_legacy_log(tamper_second=True)
    _run_migration_step()
    assert AuditEvent.objects.get(action="audit.chain_keyed").data["legacy_chain_intact"] is False
