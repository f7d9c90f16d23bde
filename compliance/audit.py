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


# Keys and values that would carry personal or image data are refused, so a careless caller
# fails loudly in tests instead of leaking into a log that is kept for years.
_FORBIDDEN_KEYS = frozenset(
    {
        "email",
        "name",
        "first_name",
        "last_name",
        "signature",
        "signature_name",
        "ip",
        "ip_address",
        "user_agent",
        "photo",
        "image",
        "image_bytes",
        "face",
        "landmarks",
        "embedding",
        "token",
        "code",
    }
)
MAX_VALUE_CHARS = 200


def check_event_data(data: Any, path: str = "data") -> None:
    """Raise ValueError if `data` holds anything but ids, counts, flags, short labels and hashes."""
    if isinstance(data, dict):
        for key, value in data.items():
            if str(key).lower() in _FORBIDDEN_KEYS:
                raise ValueError(f"{path}.{key}: audit events hold ids and hashes only, not {key}.")
            check_event_data(value, f"{path}.{key}")
    elif isinstance(data, list | tuple):
        for index, value in enumerate(data):
            check_event_data(value, f"{path}[{index}]")
    elif isinstance(data, bytes | bytearray | memoryview):
        raise ValueError(f"{path}: audit events never hold binary (image) data.")
    elif isinstance(data, str) and ("@" in data or len(data) > MAX_VALUE_CHARS):
        raise ValueError(f"{path}: looks like personal data or free text; log an id or a hash instead.")


def record_event(
    action: str,
    *,
    actor: str = "system",
    object_type: str = "",
    object_id: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain. `data` must hold ids, counts and hashes only.

    Runs in its own (nested) transaction; the chain head row is locked so concurrent writers
    append one after the other. Raises ValueError when `data` or `actor` carries personal data.
    """
    check_event_data(data or {})
    check_event_data({"actor": actor, "object_id": str(object_id)})
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
    """Recompute every link; report the first event whose stored hashes do not match.

    Verification starts at the anchor left by the last pruning (the genesis hash before any).
    """
    head = AuditChainHead.objects.filter(id=1).first()
    previous = head.anchor_hash if head is not None else GENESIS_HASH
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
    if head is not None and head.last_hash != previous:
        return ChainReport(False, count, None, "the newest events are missing (chain head does not match)")
    return ChainReport(True, count)


def prune_events(before: datetime) -> int:
    """Delete events older than `before` (audit-log retention) and keep the chain verifiable.

    The hash of the last deleted event becomes the anchor from which verify_chain() starts, and
    the pruning itself is recorded as a new event.
    """
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(id=1)
        last = AuditEvent.objects.filter(occurred_at__lt=before).order_by("-sequence").first()
        if last is None:
            return 0
        # A queryset delete on purpose: single events refuse delete(); only retention prunes.
        deleted, _ = AuditEvent.objects.filter(sequence__lte=last.sequence).delete()
        head.anchor_hash = last.hash
        head.anchor_sequence = last.sequence
        head.save(update_fields=["anchor_hash", "anchor_sequence"])
    record_event("audit.pruned", data={"through_sequence": last.sequence, "anchor_hash": last.hash})
    return int(deleted)
