"""Someone with write access to the database cannot rewrite the audit log unnoticed.

The reviewer's attack, step by step: change an erasure's `portraits_deleted` from 4 to 0, delete
the first `consent.given` event, recompute the (unkeyed) chain and head; delete the newest events
and move the head back. Every variant must be caught, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from compliance import checkpoints
from compliance.audit import record_event, verify_chain
from compliance.models import AuditCheckpoint, AuditEvent
from compliance.tests import tamper

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(committed: Any) -> dict[str, AuditEvent]:
    """A small log: consent, a job, an erasure of 4 portraits, then 12 more events; signed and
    published after the erasure and at the end."""
    events = {
        "consent": record_event("consent.given", object_type="job", object_id="j1", data={"version": 1}),
        "job": record_event("job.created", object_type="job", object_id="j1"),
        "erasure": record_event(
            "erasure.completed", object_type="erasure", object_id="e1", data={"portraits_deleted": 4}
        ),
    }
    with committed():
        checkpoints.sign_checkpoint()
    for number in range(12):
        events[f"later{number}"] = record_event("job.viewed", object_type="job", object_id=f"j{number}")
    with committed():
        checkpoints.sign_checkpoint()
    assert verify_chain().ok
    return events


def test_it_detects_an_edited_event_even_with_the_chain_recomputed(history: dict[str, AuditEvent]) -> None:
    erasure = history["erasure"]
    tamper.set_event_data(erasure.sequence, {"portraits_deleted": 0})
    assert not verify_chain().ok  # as edited

    tamper.recompute_unkeyed_chain()  # and as a careful attacker leaves it
    report = verify_chain()

    assert not report.ok
    assert report.first_broken_sequence == 1  # no link survives a recomputation without the key
    assert "keyed hash" in report.reason


def test_it_detects_a_deleted_event_even_with_the_chain_recomputed(history: dict[str, AuditEvent]) -> None:
    consent = history["consent"]
    tamper.delete_events("sequence = %s", [consent.sequence])
    report = verify_chain()
    assert not report.ok and "missing" in report.reason

    tamper.recompute_unkeyed_chain()
    report = verify_chain()

    assert not report.ok
    assert "keyed hash" in report.reason


def test_it_detects_truncation_of_the_newest_events(history: dict[str, AuditEvent]) -> None:
    newest = AuditEvent.objects.order_by("-sequence")[:10]
    tamper.delete_events("sequence >= %s", [min(event.sequence for event in newest)])
    tamper.move_head_to_last_event()
    # The attacker also removes the database's own record of the checkpoints.
    AuditCheckpoint.objects.all().delete()

    report = verify_chain()

    assert not report.ok
    assert report.reason.startswith("truncated")
    with pytest.raises(CommandError, match="truncated"):
        call_command("verify_audit_chain")


def test_it_detects_a_rewritten_chain_with_the_newest_events_dropped(history: dict[str, AuditEvent]) -> None:
    """Even where every keyed link is intact (the attacker only cut the tail), the signed
    checkpoint published after the erasure must still match."""
    tamper.delete_events("sequence > %s", [history["erasure"].sequence])
    tamper.move_head_to_last_event()

    report = verify_chain()

    assert not report.ok
    assert "truncated" in report.reason


def test_it_refuses_a_forged_checkpoint_in_storage(history: dict[str, AuditEvent], storage_dir: Any) -> None:
    # A forger writes a checkpoint for a rewritten head, signed with a key of their own.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    real = AuditCheckpoint.objects.order_by("-sequence").first()
    assert real is not None
    payload = real.payload.replace(real.head_hash, "f" * 64)
    import base64
    import json

    signature = base64.b64encode(Ed25519PrivateKey.generate().sign(payload.encode())).decode()
    forged = storage_dir / "audit" / "checkpoints" / "999999999999-forged.json"
    forged.write_text(json.dumps({"payload": payload, "signature": signature}))

    report = verify_chain()

    assert not report.ok
    assert "signature does not verify" in report.reason


def test_a_checkpoint_kept_by_the_dpo_catches_what_storage_no_longer_shows(
    history: dict[str, AuditEvent], storage_dir: Any, tmp_path: Any
) -> None:
    latest = AuditCheckpoint.objects.order_by("-sequence").first()
    assert latest is not None
    kept = tmp_path / "from-the-dpo-mail.json"
    kept.write_text(checkpoints.document_for(latest))
    # Whoever cut the log also deleted the storage copies.
    for path in (storage_dir / "audit" / "checkpoints").iterdir():
        path.unlink()
    tamper.delete_events("sequence > %s", [history["erasure"].sequence])
    tamper.move_head_to_last_event()

    call_command("verify_audit_chain")  # storage alone no longer knows
    with pytest.raises(CommandError, match="truncated"):
        call_command("verify_audit_chain", checkpoint=[str(kept)])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the append-only trigger is PostgreSQL's")
def test_postgresql_refuses_update_and_delete(history: dict[str, AuditEvent]) -> None:
    erasure = history["erasure"]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=erasure.pk).update(data={"portraits_deleted": 0})
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=erasure.pk).delete()
    assert AuditEvent.objects.get(pk=erasure.pk).data == {"portraits_deleted": 4}
    assert verify_chain().ok
