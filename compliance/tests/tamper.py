"""What an attacker with write access to the database can do, for the tamper tests.

Such a person can switch the append-only trigger off (they own the table), edit and delete rows,
and recompute any hash that needs no secret: the old plain SHA-256 chain and the head row. They
do not have the HMAC key or the signing key, which live in the environment, nor the copies of the
checkpoints published in storage and mailed to the DPO.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import connection

from compliance.models import AuditChainHead, AuditEvent

TRIGGER = "compliance_auditevent_append_only"


def run_as_table_owner(sql: str, params: list[Any] | None = None) -> None:
    """Run SQL with the append-only trigger disabled, as the table's owner could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE compliance_auditevent DISABLE TRIGGER {TRIGGER}")
        try:
            cursor.execute(sql, params or [])
        finally:
            if connection.vendor == "postgresql":
                cursor.execute(f"ALTER TABLE compliance_auditevent ENABLE TRIGGER {TRIGGER}")


def _plain_canonical(event: AuditEvent, data: dict[str, Any]) -> str:
    return json.dumps(
        {
            "sequence": event.sequence,
            "key_id": event.key_id,
            "occurred_at": event.occurred_at.isoformat(timespec="microseconds"),
            "actor": event.actor,
            "action": event.action,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "data_sha256": hashlib.sha256(
                json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
            ).hexdigest(),
        },
        sort_keys=True,
        separators=(",", ":"),
    )


def recompute_unkeyed_chain() -> None:
    """Renumber the events without gaps and rewrite every digest, link and hash with plain
    SHA-256, then move the head: a consistent-looking chain built without the key."""
    head = AuditChainHead.objects.get(id=1)
    previous = head.anchor_hash
    number = head.anchor_sequence
    for event in list(AuditEvent.objects.order_by("sequence")):
        number += 1
        if event.sequence != number:
            run_as_table_owner(
                "UPDATE compliance_auditevent SET sequence = %s WHERE sequence = %s", [number, event.sequence]
            )
            event.sequence = number
        digest = hashlib.sha256(
            json.dumps(event.data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        ).hexdigest()
        forged = hashlib.sha256((previous + "\n" + _plain_canonical(event, event.data)).encode()).hexdigest()
        run_as_table_owner(
            "UPDATE compliance_auditevent SET data_sha256 = %s, previous_hash = %s, hash = %s "
            "WHERE sequence = %s",
            [digest, previous, forged, number],
        )
        previous = forged
    AuditChainHead.objects.filter(id=1).update(last_hash=previous, last_sequence=number)


def set_event_data(sequence: int, data: dict[str, Any]) -> None:
    run_as_table_owner(
        "UPDATE compliance_auditevent SET data = %s WHERE sequence = %s", [json.dumps(data), sequence]
    )


def delete_events(where: str, params: list[Any]) -> None:
    # `where` is a literal from the tests, never input.
    run_as_table_owner(f"DELETE FROM compliance_auditevent WHERE {where}", params)  # noqa: S608


def move_head_to_last_event() -> None:
    last = AuditEvent.objects.order_by("-sequence").first()
    assert last is not None
    AuditChainHead.objects.filter(id=1).update(last_hash=last.hash, last_sequence=last.sequence)
