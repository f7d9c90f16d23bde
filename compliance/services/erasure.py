"""The erasure cascade (GDPR Arts. 17 and 19, CCPA 11 CCR 7022) and its deletion certificate.

Every app declares what it holds about a subject by registering an eraser in its
AppConfig.ready(); erase_subject() runs them all, tells every sub-processor, and leaves a
certificate whose audit hashes prove the work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from compliance.audit import record_event
from compliance.checkpoints import sign_checkpoint
from compliance.models import (
    AuditEvent,
    CheckpointReason,
    DeletionCertificate,
    SubProcessor,
    SubprocessorErasureNotice,
)
from proportrait.emails import send_email

logger = logging.getLogger(__name__)


class ErasureScope:
    """How much of a subject an erasure covers."""

    #: Everything we hold (erasure request, account or organisation deletion).
    EVERYTHING = "everything"
    #: Photos, portraits, their keys and derived data only (consent withdrawn); accounts stay.
    BIOMETRIC = "biometric"


@dataclass(frozen=True)
class Subject:
    """Who an erasure or export is for. Any field may be empty; erasers act on what they recognise.

    - user_id: an account (and through it, its memberships and jobs);
    - email: the contact address (invitations, requests not linked to an account);
    - job_ids: anonymous jobs whose holder proved possession;
    - organisation_id: an organisation being deleted as a whole;
    - scope: ErasureScope.EVERYTHING, or ErasureScope.BIOMETRIC for a consent withdrawal, where
      erasers remove photos and portraits and keep accounts and memberships.
    """

    user_id: int | None = None
    email: str = ""
    job_ids: tuple[str, ...] = ()
    organisation_id: int | None = None
    scope: str = ErasureScope.EVERYTHING


@dataclass
class ErasureReport:
    """What one eraser removed: categories and counts only, never the data."""

    app: str
    categories: dict[str, int] = field(default_factory=dict)
    systems: tuple[str, ...] = ("database",)
    notes: str = ""
    #: What this app keeps after the erasure and why, in plain words ("" when nothing stays).
    remains: str = ""


Eraser = Callable[[Subject], ErasureReport]
_ERASERS: dict[str, tuple[int, Eraser]] = {}

# Order matters: rows that point at an account must be erased (with their storage objects and
# keys) before the account itself goes, or a database cascade would drop the rows and leave the
# objects and keys behind.
DEFAULT_ORDER = {"compliance": 10, "portraits": 50, "accounts": 90}


def register_eraser(name: str, eraser: Eraser, *, order: int | None = None) -> None:
    """Called from each app's AppConfig.ready(). The eraser must be idempotent.

    Erasers run by `order` (lower first); accounts runs last by default.
    """
    _ERASERS[name] = (order if order is not None else DEFAULT_ORDER.get(name, 70), eraser)


def unregister_eraser(name: str) -> None:
    _ERASERS.pop(name, None)


def registered_erasers() -> dict[str, Eraser]:
    """Erasers by name, in the order erase_subject() runs them."""
    return {name: eraser for name, (_, eraser) in sorted(_ERASERS.items(), key=lambda item: item[1][0])}


ErasureBlocker = Callable[[Subject], list[str]]
_BLOCKERS: dict[str, ErasureBlocker] = {}


def register_erasure_blocker(name: str, blocker: ErasureBlocker) -> None:
    """An app names what an automatic erasure must not break (e.g. an organisation's only owner).

    The blocker returns plain-language reasons, or an empty list when nothing stands in the way.
    """
    _BLOCKERS[name] = blocker


def erasure_blockers(subject: Subject) -> list[str]:
    """Every reason an automatic erasure of `subject` must wait for staff; empty when none."""
    reasons: list[str] = []
    for blocker in _BLOCKERS.values():
        reasons.extend(blocker(subject))
    return reasons


ERASURE_METHOD = (
    "Database rows deleted. Encrypted storage objects deleted, and their AES-256 data keys wiped "
    "(crypto-shredding), so that copies in storage backups can never be decrypted. Queued tasks for "
    "the subject revoked and cached entries removed."
)
WHAT_REMAINS = (
    "A minimal audit record: event ids, times, opaque references and SHA-256 hashes that prove the "
    "erasure happened. It holds no name, email, photo or portrait. The deletion certificate itself holds "
    "categories and counts only."
)
BACKUPS = (
    "Database backups roll off on their own schedule; any copy of an encrypted object in a storage "
    "backup is unreadable because its key no longer exists."
)


def _subject_summary(subject: Subject) -> dict[str, object]:
    # Ids only: the audit log never takes an email.
    return {
        "user_id": subject.user_id,
        "job_count": len(subject.job_ids),
        "organisation_id": subject.organisation_id,
        "has_email": bool(subject.email),
        "scope": subject.scope,
    }


def erase_subject(subject: Subject, *, reason: str, actor: str, reference: str = "") -> DeletionCertificate:
    """Erase everything the registered apps hold about `subject`; return the deletion certificate.

    Each eraser runs in its own transaction: one that fails is recorded on the certificate
    (which then says it is incomplete) and does not stop the others. When anything was erased,
    every active sub-processor gets an erasure notice (Art. 19): e-mailed where the register has
    a privacy contact, the send's result recorded on the notice; otherwise recorded as not sent.
    When nothing was found, nothing is sent and the certificate says so.
    """
    started_at = timezone.now()
    reference = reference or f"erasure:{started_at:%Y%m%dT%H%M%S}"
    hashes = [
        record_event(
            "erasure.started",
            actor=actor,
            object_type="erasure",
            object_id=reference,
            data={"reason": reason, **_subject_summary(subject)},
        ).hash
    ]
    scope: dict[str, dict[str, int]] = {}
    systems: set[str] = set()
    failures: list[str] = []
    notes: dict[str, str] = {}
    remains: list[str] = []
    for name, eraser in registered_erasers().items():
        try:
            with transaction.atomic():
                report = eraser(subject)
        except Exception:
            # The certificate must not claim what did not happen; staff see the failure in the admin.
            logger.exception("eraser %s failed for %s", name, reference)
            failures.append(name)
            event = record_event(
                "erasure.eraser_failed",
                actor=actor,
                object_type="erasure",
                object_id=reference,
                data={"eraser": name},
            )
            hashes.append(event.hash)
            continue
        scope[name] = dict(report.categories)
        systems.update(report.systems)
        if report.notes:
            notes[name] = report.notes
        if report.remains:
            remains.append(report.remains)
        hashes.append(
            record_event(
                "erasure.eraser_completed",
                actor=actor,
                object_type="erasure",
                object_id=reference,
                data={"eraser": name, "categories": report.categories},
            ).hash
        )

    erased_anything = any(count for categories in scope.values() for count in categories.values())
    # Nothing found means nothing to pass on: sub-processors are told only about a real erasure.
    subprocessors = (
        list(SubProcessor.objects.filter(until__isnull=True)) if (erased_anything or failures) else []
    )
    if subprocessors:
        systems.add("sub-processors")
    completed_at = timezone.now()
    with transaction.atomic():
        certificate = DeletionCertificate.objects.create(
            reference=reference,
            reason=reason,
            scope={"erased": scope, "notes": notes},
            systems=sorted(systems),
            method=ERASURE_METHOD,
            remains=" ".join([WHAT_REMAINS, *remains]),
            backups=BACKUPS,
            failures=failures,
            started_at=started_at,
            completed_at=completed_at,
            audit_hashes=[],
        )
        to_send: list[tuple[SubprocessorErasureNotice, SubProcessor]] = []
        for processor in subprocessors:
            notice = SubprocessorErasureNotice.objects.create(
                certificate=certificate,
                subprocessor_name=processor.name,
                method=NOTICE_BY_EMAIL if processor.privacy_contact_email else NOTICE_NOT_SENT,
                recorded_at=completed_at,
            )
            if processor.privacy_contact_email:
                to_send.append((notice, processor))
        completed_event = record_event(
            "erasure.completed",
            actor=actor,
            object_type="deletion_certificate",
            object_id=str(certificate.id),
            data={
                "reference": reference,
                "subprocessors_notified": len(subprocessors),
                "failures": failures,
            },
        )
        hashes.append(completed_event.hash)
        _attach_evidence(certificate, hashes, completed_event)
    for notice, processor in to_send:
        _send_erasure_notice(notice, processor, certificate)
    return certificate


#: How a sub-processor was (or was not) told; the certificate and the requester's mail say which.
NOTICE_BY_EMAIL = "email to privacy contact"
NOTICE_NOT_SENT = "not sent: no privacy contact in our sub-processor register"


def _send_erasure_notice(
    notice: SubprocessorErasureNotice, processor: SubProcessor, certificate: DeletionCertificate
) -> None:
    """E-mail one notice through the normal mail path and record what the send returned."""
    try:
        send_email(
            "subprocessor-erasure-notice",
            [processor.privacy_contact_email],
            {"processor": processor, "certificate": certificate},
            on_commit=False,
        )
    except Exception as error:  # the notice row must say it failed, not that it went
        logger.exception("erasure notice to %s failed for %s", processor.name, certificate.reference)
        result, sent_at = f"failed: {type(error).__name__}", None
    else:
        result, sent_at = "sent", timezone.now()
    SubprocessorErasureNotice.objects.filter(pk=notice.pk).update(send_result=result, sent_at=sent_at)
    notice.send_result, notice.sent_at = result, sent_at
    if sent_at is None:
        record_event(
            "erasure.notice_failed",
            actor="system:compliance",
            object_type="deletion_certificate",
            object_id=str(certificate.id),
            data={"subprocessor": processor.name},
        )


def notice_summary(certificate: DeletionCertificate) -> dict[str, int]:
    """How many sub-processors were e-mailed a notice, and how many were not (no contact, or the
    send failed): what the requester's mail and the certificate state."""
    notices = list(certificate.notices.all())
    sent = sum(1 for notice in notices if notice.sent_at is not None)
    return {"notices_sent": sent, "notices_not_sent": len(notices) - sent}


def _attach_evidence(certificate: DeletionCertificate, hashes: list[str], event: AuditEvent) -> None:
    """The certificate carries its closing event and a signed checkpoint that covers it."""
    checkpoint = sign_checkpoint(reason=CheckpointReason.CERTIFICATE)
    certificate.audit_hashes = hashes
    certificate.event_hash = event.hash
    certificate.event_sequence = event.sequence
    certificate.checkpoint = checkpoint
    DeletionCertificate.objects.filter(pk=certificate.pk).update(
        audit_hashes=hashes, event_hash=event.hash, event_sequence=event.sequence, checkpoint=checkpoint
    )
