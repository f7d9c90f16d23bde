"""The one way any app writes to the audit log. Ids and hashes only, never personal or image data."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from compliance.models import AuditChainHead, AuditEvent

GENESIS_HASH = "0" * 64


def canonical_event(
    *, occurred_at: datetime, actor: str, action: str, object_type: str, object_id: str, data: dict[str, Any]
) -> str:
    payload = {
        "occurred_at": occurred_at.isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "data": data,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(previous_hash: str, canonical: str) -> str:
    return hashlib.sha256((previous_hash + canonical).encode("utf-8")).hexdigest()


def record_event(
    action: str,
    *,
    actor: str = "system",
    object_type: str = "",
    object_id: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain. `data` must hold ids, counts and hashes only."""
    data = json.loads(json.dumps(data or {}, sort_keys=True, default=str))
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(id=1)
        occurred_at = timezone.now()
        canonical = canonical_event(
            occurred_at=occurred_at,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            data=data,
        )
        digest = chain_hash(head.last_hash, canonical)
        event = AuditEvent.objects.create(
            occurred_at=occurred_at,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            data=data,
            previous_hash=head.last_hash,
            hash=digest,
        )
        head.last_hash = digest
        head.last_sequence = event.sequence
        head.save(update_fields=["last_hash", "last_sequence"])
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events_checked: int
    first_broken_sequence: int | None = None
    reason: str = ""


def verify_chain() -> ChainReport:
    """Recompute every link; report the first event whose stored hashes do not match."""
    previous = GENESIS_HASH
    count = 0
    for event in AuditEvent.objects.order_by("sequence").iterator(chunk_size=2000):
        count += 1
        if event.previous_hash != previous:
            return ChainReport(False, count, event.sequence, "previous_hash does not match the prior event")
        canonical = canonical_event(
            occurred_at=event.occurred_at,
            actor=event.actor,
            action=event.action,
            object_type=event.object_type,
            object_id=event.object_id,
            data=event.data,
        )
        if chain_hash(previous, canonical) != event.hash:
            return ChainReport(False, count, event.sequence, "event content does not match its hash")
        previous = event.hash
    head = AuditChainHead.objects.filter(id=1).first()
    if head is not None and head.last_hash != previous:
        return ChainReport(False, count, None, "the newest events are missing (chain head does not match)")
    return ChainReport(True, count)
