"""The one way any app writes to the audit log. Ids and hashes only, never personal or image data.

Why it can't be rewritten unnoticed:
1. Each event's hash is an HMAC keyed with a secret from the environment
   (PROPORTRAIT_AUDIT_HMAC_KEYS), never stored in the database: someone who can write to the
   table cannot recompute a valid chain after editing, deleting or inserting an event.
2. Checkpoints ("the chain had hash H at sequence N") are signed with Ed25519
   (PROPORTRAIT_AUDIT_SIGNING_KEYS) and published outside the database (compliance.checkpoints):
   an append-only object in storage, a mail to the DPO and a public page. Deleting the newest
   events and moving the head back (truncation) contradicts the last published checkpoint.
3. On PostgreSQL a trigger refuses UPDATE and DELETE on the table except inside the documented
   redaction and retention paths below, which write an event themselves.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from compliance.models import AuditChainHead, AuditEvent
from proportrait.keyring import parse_keys

GENESIS_HASH = "0" * 64
#: The PostgreSQL setting that the append-only trigger lets through (transaction-local).
BYPASS_SETTING = "proportrait.audit_maintenance"


# --- Keys.


def hmac_keys() -> tuple[str, dict[str, bytes]]:
    """(current key id, every known HMAC key by id)."""
    return parse_keys(settings.PROPORTRAIT_AUDIT_HMAC_KEYS, "PROPORTRAIT_AUDIT_HMAC_KEYS")


# --- The canonical form of an event, and its keyed hash.


def data_digest(data: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    ).hexdigest()


def canonical_event(
    *,
    sequence: int,
    key_id: str,
    occurred_at: datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    data_sha256: str,
) -> str:
    payload = {
        "sequence": sequence,
        "key_id": key_id,
        "occurred_at": occurred_at.isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "data_sha256": data_sha256,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(key: bytes, previous_hash: str, canonical: str) -> str:
    return hmac.new(key, (previous_hash + "\n" + canonical).encode("utf-8"), hashlib.sha256).hexdigest()


def expected_hash(event: AuditEvent, previous_hash: str) -> str | None:
    """The hash `event` must carry after `previous_hash`; None if its key id is unknown."""
    key = hmac_keys()[1].get(event.key_id)
    if key is None:
        return None
    canonical = canonical_event(
        sequence=event.sequence,
        key_id=event.key_id,
        occurred_at=event.occurred_at,
        actor=event.actor,
        action=event.action,
        object_type=event.object_type,
        object_id=event.object_id,
        data_sha256=event.data_sha256,
    )
    return chain_hash(key, previous_hash, canonical)


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
    append one after the other, and the sequence is the head's plus one, so the numbering has no
    gaps and a missing event shows. Raises ValueError when `data` or `actor` carries personal data.
    """
    check_event_data(data or {})
    check_event_data({"actor": actor, "object_id": str(object_id)})
    data = json.loads(json.dumps(data or {}, sort_keys=True, default=str))
    key_id, keys = hmac_keys()
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(id=1)
        event = AuditEvent(
            sequence=head.last_sequence + 1,
            occurred_at=timezone.now(),
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            data=data,
            data_sha256=data_digest(data),
            key_id=key_id,
            previous_hash=head.last_hash,
        )
        event.hash = chain_hash(
            keys[key_id],
            head.last_hash,
            canonical_event(
                sequence=event.sequence,
                key_id=key_id,
                occurred_at=event.occurred_at,
                actor=actor,
                action=action,
                object_type=object_type,
                object_id=event.object_id,
                data_sha256=event.data_sha256,
            ),
        )
        event.save(force_insert=True)
        head.last_hash = event.hash
        head.last_sequence = event.sequence
        head.save(update_fields=["last_hash", "last_sequence"])
    return event


# --- Verification.


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events_checked: int
    first_broken_sequence: int | None = None
    reason: str = ""
    checkpoints_checked: int = 0
    warnings: tuple[str, ...] = field(default_factory=tuple)


def _check_event(event: AuditEvent, previous: str, expected_sequence: int) -> str:
    """Why `event` breaks the chain, or "" if it is a sound link."""
    if event.sequence != expected_sequence:
        return f"event #{expected_sequence} is missing (the numbering jumps to #{event.sequence})"
    if event.previous_hash != previous:
        return "previous_hash does not match the prior event"
    if event.redacted_at is None and data_digest(event.data) != event.data_sha256:
        return "event data does not match its digest (edited)"
    wanted = expected_hash(event, previous)
    if wanted is None:
        return f"event is keyed with an unknown key id {event.key_id!r}"
    if not hmac.compare_digest(wanted, event.hash):
        return "event content does not match its keyed hash"
    return ""


def verify_chain(*, published: list[Any] | None = None) -> ChainReport:
    """Recompute every keyed link, then hold the chain against the published checkpoints.

    Verification starts at the anchor left by the last pruning (the genesis hash before any).
    `published` are checkpoints read from outside the database (by default every object that
    compliance.checkpoints has published to storage); each must carry a valid signature and
    match the event at its sequence, and the chain must reach at least as far as the newest.
    """
    from compliance import checkpoints

    head = AuditChainHead.objects.filter(id=1).first()
    previous = head.anchor_hash if head is not None else GENESIS_HASH
    anchor_sequence = head.anchor_sequence if head is not None else 0
    expected_sequence = anchor_sequence + 1
    count = 0
    hashes_at: dict[int, str] = {anchor_sequence: previous} if anchor_sequence else {}
    for event in AuditEvent.objects.order_by("sequence").iterator(chunk_size=2000):
        count += 1
        reason = _check_event(event, previous, expected_sequence)
        if reason:
            return ChainReport(False, count, event.sequence, reason)
        previous = event.hash
        hashes_at[event.sequence] = event.hash
        expected_sequence = event.sequence + 1
    last_sequence = expected_sequence - 1
    if head is not None and (head.last_hash != previous or head.last_sequence != last_sequence):
        return ChainReport(False, count, None, "the newest events are missing (chain head does not match)")

    if published is None:
        published = checkpoints.read_published()
    checked = 0
    for checkpoint in published:
        problem = checkpoints.signature_problem(checkpoint)
        if problem:
            return ChainReport(False, count, None, f"published checkpoint #{checkpoint.sequence}: {problem}")
        checked += 1
        if checkpoint.sequence < anchor_sequence:
            continue  # pruned past its retention; the pruning is itself an event
        if checkpoint.sequence > last_sequence:
            return ChainReport(
                False,
                count,
                None,
                f"truncated: a signed checkpoint published at {checkpoint.signed_at} covers event "
                f"#{checkpoint.sequence}, but the log ends at #{last_sequence}",
                checked,
            )
        if hashes_at.get(checkpoint.sequence) != checkpoint.head_hash:
            return ChainReport(
                False,
                count,
                checkpoint.sequence,
                f"event #{checkpoint.sequence} differs from the signed checkpoint published at "
                f"{checkpoint.signed_at}",
                checked,
            )
    warnings: tuple[str, ...] = ()
    if count and not published:
        warnings = ("no signed checkpoint has been published yet: truncation cannot be ruled out",)
    return ChainReport(True, count, checkpoints_checked=checked, warnings=warnings)


# --- The two paths allowed to change stored events: redaction and retention.


@contextmanager
def _maintenance() -> Iterator[None]:
    """Inside a transaction: let the PostgreSQL append-only trigger pass this transaction's writes."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, 'on', true)", [BYPASS_SETTING])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, 'off', true)", [BYPASS_SETTING])


REDACTION_REASONS = frozenset({"personal_data_logged", "court_order", "supervisory_authority"})


def redact_event(sequence: int, *, reason: str, actor: str) -> AuditEvent:
    """Blank the `data` of one event that should never have held what it holds.

    The documented redaction path: the chain stays verifiable because each link covers the
    SHA-256 of the data, not the data, and a new `audit.redacted` event records which event was
    redacted, by whom and why (`reason` is one of REDACTION_REASONS). Nothing else can change.
    """
    if reason not in REDACTION_REASONS:
        raise ValueError(f"reason must be one of {sorted(REDACTION_REASONS)}")
    with transaction.atomic():
        event = AuditEvent.objects.select_for_update().get(sequence=sequence)
        if event.redacted_at is None:
            with _maintenance():
                AuditEvent.objects.filter(sequence=sequence).update(
                    data={"redacted": True}, redacted_at=timezone.now()
                )
        record_event(
            "audit.redacted",
            actor=actor,
            object_type="audit_event",
            object_id=str(sequence),
            data={"reason": reason, "data_sha256": event.data_sha256},
        )
    return AuditEvent.objects.get(sequence=sequence)


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
        with _maintenance():
            # A queryset delete on purpose: single events refuse delete(); only retention prunes.
            deleted, _ = AuditEvent.objects.filter(sequence__lte=last.sequence).delete()
        head.anchor_hash = last.hash
        head.anchor_sequence = last.sequence
        head.save(update_fields=["anchor_hash", "anchor_sequence"])
    record_event("audit.pruned", data={"through_sequence": last.sequence, "anchor_hash": last.hash})
    return int(deleted)
