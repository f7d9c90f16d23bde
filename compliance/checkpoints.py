"""Signed checkpoints of the audit chain, published where a database writer cannot reach them.

A checkpoint says "the audit chain had hash H at event N", signed with Ed25519
(PROPORTRAIT_AUDIT_SIGNING_KEYS, from the environment). Each one is published three ways:
1. an object in storage under audit/checkpoints/, written once and never overwritten or deleted
   by the application (on S3, put the prefix under Object Lock in compliance mode);
2. a mail to the DPO (PROPORTRAIT_DPO_EMAIL), who keeps it outside our systems;
3. the public page /privacy/audit/, with the public keys that verify it.
verify_chain() holds the database against the storage copies; `verify_audit_chain --checkpoint`
holds it against a copy from the DPO's mailbox.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from compliance import storage
from compliance.models import AuditChainHead, AuditCheckpoint, CheckpointReason
from proportrait.emails import send_email
from proportrait.keyring import parse_keys

PAYLOAD_TYPE = "proportrait-audit-checkpoint"


# --- Keys.


def signing_key() -> tuple[str, Ed25519PrivateKey]:
    """(key id, private key) of the key that signs new checkpoints."""
    current, seeds = parse_keys(settings.PROPORTRAIT_AUDIT_SIGNING_KEYS, "PROPORTRAIT_AUDIT_SIGNING_KEYS")
    return current, Ed25519PrivateKey.from_private_bytes(seeds[current])


@lru_cache(maxsize=4)
def _public_keys(signing_raw: str, retired_raw: str) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    _, seeds = parse_keys(signing_raw, "PROPORTRAIT_AUDIT_SIGNING_KEYS")
    for key_id, seed in seeds.items():
        keys[key_id] = (
            Ed25519PrivateKey.from_private_bytes(seed)
            .public_key()
            .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )
    if retired_raw.strip():
        try:
            _, retired = parse_keys(retired_raw, "PROPORTRAIT_AUDIT_RETIRED_PUBLIC_KEYS")
        except ImproperlyConfigured:
            raise
        for key_id, public in retired.items():
            keys.setdefault(key_id, public)
    return keys


def public_keys() -> dict[str, str]:
    """Every key id that may have signed a checkpoint, with its raw public key in base64."""
    raw = _public_keys(
        settings.PROPORTRAIT_AUDIT_SIGNING_KEYS, settings.PROPORTRAIT_AUDIT_RETIRED_PUBLIC_KEYS
    )
    return {key_id: base64.b64encode(public).decode() for key_id, public in raw.items()}


# --- What a checkpoint is, wherever it was read from.


@dataclass(frozen=True)
class PublishedCheckpoint:
    """A checkpoint as read from storage or a mail: the signed text and its signature."""

    payload: str
    signature: str
    key_id: str
    sequence: int
    head_hash: str
    signed_at: str
    source: str = ""


def canonical_payload(*, sequence: int, head_hash: str, signed_at: datetime, key_id: str) -> str:
    return json.dumps(
        {
            "type": PAYLOAD_TYPE,
            "version": 1,
            "site": settings.SITE_URL,
            "sequence": sequence,
            "hash": head_hash,
            "signed_at": signed_at.isoformat(timespec="microseconds"),
            "key_id": key_id,
        },
        sort_keys=True,
        separators=(",", ":"),
    )


def parse_published(document: str, source: str = "") -> PublishedCheckpoint:
    """Read a checkpoint document ({"payload": "...", "signature": "..."}); ValueError if malformed."""
    try:
        outer = json.loads(document)
        payload = outer["payload"]
        inner = json.loads(payload)
        if inner.get("type") != PAYLOAD_TYPE:
            raise ValueError("not a ProPortrait audit checkpoint")
        return PublishedCheckpoint(
            payload=payload,
            signature=str(outer["signature"]),
            key_id=str(inner["key_id"]),
            sequence=int(inner["sequence"]),
            head_hash=str(inner["hash"]),
            signed_at=str(inner["signed_at"]),
            source=source,
        )
    except (KeyError, TypeError, json.JSONDecodeError) as error:
        raise ValueError(f"malformed checkpoint document: {error}") from None


def document_for(checkpoint: AuditCheckpoint) -> str:
    """The text that is published (storage object, DPO mail, public JSON)."""
    return json.dumps({"payload": checkpoint.payload, "signature": checkpoint.signature}, indent=2)


def as_published(checkpoint: AuditCheckpoint) -> PublishedCheckpoint:
    return parse_published(document_for(checkpoint), source=f"database row {checkpoint.pk}")


def signature_problem(checkpoint: PublishedCheckpoint) -> str:
    """Why the checkpoint's signature cannot be trusted, or "" if it verifies."""
    public = _public_keys(
        settings.PROPORTRAIT_AUDIT_SIGNING_KEYS, settings.PROPORTRAIT_AUDIT_RETIRED_PUBLIC_KEYS
    ).get(checkpoint.key_id)
    if public is None:
        return f"signed with an unknown key id {checkpoint.key_id!r}"
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(
            base64.b64decode(checkpoint.signature), checkpoint.payload.encode("utf-8")
        )
    except (InvalidSignature, ValueError):
        return "the signature does not verify"
    return ""


# --- Signing and publishing.


def sign_checkpoint(*, reason: str = CheckpointReason.INTERVAL) -> AuditCheckpoint:
    """Sign the chain's current head and publish it after commit (storage object and DPO mail).

    The checkpoint row is written in the same transaction as the head it covers, so a rolled-back
    transaction never publishes a head that does not exist.
    """
    key_id, private = signing_key()
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(id=1)
        signed_at = timezone.now()
        payload = canonical_payload(
            sequence=head.last_sequence, head_hash=head.last_hash, signed_at=signed_at, key_id=key_id
        )
        checkpoint = AuditCheckpoint.objects.create(
            sequence=head.last_sequence,
            head_hash=head.last_hash,
            signed_at=signed_at,
            key_id=key_id,
            payload=payload,
            signature=base64.b64encode(private.sign(payload.encode("utf-8"))).decode(),
            reason=reason,
        )
        transaction.on_commit(lambda: publish_checkpoint(checkpoint.pk))
    return checkpoint


def storage_key_for(checkpoint: AuditCheckpoint) -> str:
    return (
        f"{storage.CHECKPOINT_PREFIX}{checkpoint.sequence:012d}-{checkpoint.signed_at:%Y%m%dT%H%M%S%f}.json"
    )


def publish_checkpoint(checkpoint_id: int) -> AuditCheckpoint:
    """Write the checkpoint's storage object and mail the DPO, each once. Safe to call again."""
    checkpoint = AuditCheckpoint.objects.get(pk=checkpoint_id)
    document = document_for(checkpoint)
    now = timezone.now()
    if checkpoint.published_at is None:
        key = storage_key_for(checkpoint)
        storage.append_object(key, document.encode("utf-8"))
        AuditCheckpoint.objects.filter(pk=checkpoint.pk).update(storage_key=key, published_at=now)
    if checkpoint.mailed_at is None:
        send_email(
            "audit-checkpoint",
            [settings.PROPORTRAIT_DPO_EMAIL],
            {
                "checkpoint": checkpoint,
                "document": document,
                "public_keys": public_keys(),
                "dpo_name": settings.PROPORTRAIT_DPO_NAME,
            },
            on_commit=False,
        )
        AuditCheckpoint.objects.filter(pk=checkpoint.pk).update(mailed_at=now)
    checkpoint.refresh_from_db()
    return checkpoint


def publish_pending() -> int:
    """Publish checkpoints whose publication did not happen (storage or mail down at the time)."""
    pending = AuditCheckpoint.objects.filter(published_at__isnull=True) | AuditCheckpoint.objects.filter(
        mailed_at__isnull=True
    )
    count = 0
    for checkpoint_id in pending.values_list("pk", flat=True):
        publish_checkpoint(checkpoint_id)
        count += 1
    return count


def sign_if_advanced() -> AuditCheckpoint | None:
    """The scheduled checkpoint: sign only when events were added since the last one."""
    publish_pending()
    head = AuditChainHead.objects.filter(id=1).first()
    if head is None or head.last_sequence == 0:
        return None
    latest = AuditCheckpoint.objects.order_by("-sequence", "-signed_at").first()
    if latest is not None and latest.sequence == head.last_sequence and latest.head_hash == head.last_hash:
        return None
    # No audit event for it: the checkpoint is its own record, and an event would move the head
    # again, so every run would find something new to sign.
    return sign_checkpoint(reason=CheckpointReason.INTERVAL)


def read_published() -> list[PublishedCheckpoint]:
    """Every checkpoint in storage, oldest first. A malformed object counts as a forged one."""
    found = []
    for key in storage.list_objects(storage.CHECKPOINT_PREFIX):
        content = storage.read_object(key).decode("utf-8", errors="replace")
        try:
            found.append(parse_published(content, source=key))
        except ValueError:
            found.append(
                PublishedCheckpoint(
                    payload="", signature="", key_id="?", sequence=-1, head_hash="", signed_at="", source=key
                )
            )
    return sorted(found, key=lambda c: (c.sequence, c.signed_at))


def latest_checkpoint() -> AuditCheckpoint | None:
    return (
        AuditCheckpoint.objects.filter(published_at__isnull=False).order_by("-sequence", "-signed_at").first()
    )


def signed_at_of(checkpoint: PublishedCheckpoint) -> datetime | None:
    return parse_datetime(checkpoint.signed_at)


def checkpoint_context(checkpoint: AuditCheckpoint | None) -> dict[str, Any]:
    """What the public page and the certificate show about a checkpoint."""
    if checkpoint is None:
        return {"checkpoint": None, "public_keys": public_keys()}
    return {"checkpoint": checkpoint, "document": document_for(checkpoint), "public_keys": public_keys()}


# --- Certificates, confirmed against the log.


@dataclass(frozen=True)
class CertificateReport:
    ok: bool
    reason: str = ""
    certificate: Any = None
    event_sequence: int | None = None
    checkpoint: AuditCheckpoint | None = None


def verify_certificate(certificate_id: str, event_hash: str) -> CertificateReport:
    """Confirm a deletion certificate against the audit log and its signed checkpoint.

    1. the certificate exists and names this event hash;
    2. the event is the certificate's `erasure.completed` event and its keyed hash is sound;
    3. every link from that event to the signed checkpoint is sound and reaches the signed hash;
    4. the checkpoint's signature verifies and its published copy in storage is the same text.
    """
    import uuid

    from compliance.audit import _check_event
    from compliance.models import AuditEvent, DeletionCertificate

    event_hash = event_hash.strip().lower()
    # 1. The certificate and the hash it states.
    try:
        certificate = DeletionCertificate.objects.select_related("checkpoint").get(
            pk=uuid.UUID(certificate_id.strip())
        )
    except (ValueError, DeletionCertificate.DoesNotExist):
        return CertificateReport(False, "no certificate with this id")
    if not certificate.event_hash or certificate.event_hash != event_hash:
        return CertificateReport(False, "the hash is not the one this certificate carries", certificate)
    # 2. Its event in the log.
    event = AuditEvent.objects.filter(hash=event_hash).first()
    if event is None:
        return CertificateReport(False, "the certificate's event is not in the audit log", certificate)
    if (
        event.action != "erasure.completed"
        or event.object_id != str(certificate.pk)
        or event.sequence != certificate.event_sequence
    ):
        return CertificateReport(False, "the event in the log belongs to something else", certificate)
    checkpoint = certificate.checkpoint
    if checkpoint is None:
        return CertificateReport(False, "the certificate carries no signed checkpoint", certificate)
    # 3. The links from the event to the checkpoint.
    previous = event.previous_hash
    expected_sequence = event.sequence
    for link in AuditEvent.objects.filter(
        sequence__gte=event.sequence, sequence__lte=checkpoint.sequence
    ).order_by("sequence"):
        problem = _check_event(link, previous, expected_sequence)
        if problem:
            return CertificateReport(False, f"audit event #{expected_sequence}: {problem}", certificate)
        previous, expected_sequence = link.hash, link.sequence + 1
    if expected_sequence - 1 != checkpoint.sequence or previous != checkpoint.head_hash:
        return CertificateReport(
            False, "the audit log no longer reaches the signed checkpoint's hash", certificate
        )
    # 4. The signature, and the copy published outside the database.
    published = as_published(checkpoint)
    problem = signature_problem(published)
    if problem:
        return CertificateReport(False, f"checkpoint: {problem}", certificate)
    if checkpoint.storage_key:
        try:
            stored = parse_published(storage.read_object(checkpoint.storage_key).decode("utf-8"))
        except (OSError, ValueError):
            return CertificateReport(False, "the published copy of the checkpoint is missing", certificate)
        if stored.payload != published.payload or stored.signature != published.signature:
            return CertificateReport(False, "the published copy of the checkpoint differs", certificate)
    return CertificateReport(True, "", certificate, event.sequence, checkpoint)
