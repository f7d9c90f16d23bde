"""Consent documents and records (GDPR Arts. 7 and 9(2)(a), BIPA 15(b), CUBI, RCW 19.375)."""

from __future__ import annotations

import ipaddress
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from compliance.audit import record_event
from compliance.models import (
    ConsentAction,
    ConsentDocument,
    ConsentKind,
    ConsentRecord,
    ConsentSubjectType,
    DeletionCertificate,
)

BIOMETRIC_PURPOSE = "Generate professional portraits from the uploaded photo, then destroy the photo."
BIOMETRIC_BASIS = (
    "GDPR Art. 9(2)(a) explicit consent; BIPA 740 ILCS 14/15(b) written release; CUBI; RCW 19.375"
)
WITHDRAWAL_METHOD = "withdraw-control"


class ConsentError(Exception):
    """The consent act is missing or does not match the current document."""


# (dead-man minutes, anonymous hours) -> (version, sha256) of the biometric notice this process last
# found to state exactly those terms. Uploads then read the notice once, without rendering it
# again; a new version (a register change publishes one) or changed settings check it afresh.
_verified_biometric: dict[tuple[int, int], tuple[int, str]] = {}


def _live_terms() -> tuple[int, int]:
    return (
        int(settings.PROPORTRAIT_ORIGINAL_DEADMAN_MINUTES),
        int(settings.PROPORTRAIT_ANONYMOUS_RETENTION_HOURS),
    )


def current_document(kind: ConsentKind | str) -> ConsentDocument:
    """The newest published version of a kind. For the biometric notice, first make sure that
    version states the live terms (compliance.services.notices)."""
    document = ConsentDocument.objects.filter(kind=kind).order_by("-version").first()
    if document is None:
        raise ConsentDocument.DoesNotExist(f"No {kind} consent document has been published.")
    if kind != ConsentKind.BIOMETRIC:
        return document
    terms = _live_terms()
    if _verified_biometric.get(terms) == (document.version, document.sha256):
        return document
    from compliance.services.notices import sync_biometric_notice

    sync_biometric_notice()
    document = ConsentDocument.objects.filter(kind=kind).order_by("-version").first()
    assert document is not None
    _verified_biometric[terms] = (document.version, document.sha256)
    return document


def current_documents() -> list[ConsentDocument]:
    """The current version of every published kind."""
    documents = []
    for kind in ConsentKind.values:
        try:
            documents.append(current_document(kind))
        except ConsentDocument.DoesNotExist:
            continue
    return documents


def publish_document(
    kind: ConsentKind | str,
    *,
    title: str,
    text: str,
    actor: str,
    effective_at: datetime | None = None,
    jurisdiction_notes: str = "",
) -> ConsentDocument:
    """Publish the next version of a document. Earlier versions stay as they were.

    The biometric notice is rendered from the live settings and register
    (compliance.services.notices); a hand-written text that differs from it is refused.
    """
    if kind == ConsentKind.BIOMETRIC:
        from compliance.services.notices import render_biometric_notice

        if text != render_biometric_notice():
            raise ValueError(
                "The biometric notice is rendered from the live settings and register "
                "(templates/compliance/notices/biometric.txt); change those instead."
            )
    with transaction.atomic():
        latest = ConsentDocument.objects.select_for_update().filter(kind=kind).order_by("-version").first()
        document = ConsentDocument.objects.create(
            kind=kind,
            version=(latest.version + 1) if latest else 1,
            title=title,
            text=text,
            effective_at=effective_at or timezone.now(),
            jurisdiction_notes=jurisdiction_notes,
        )
        record_event(
            "consent.document_published",
            actor=actor,
            object_type="consent_document",
            object_id=str(document.pk),
            data={"kind": str(kind), "version": document.version, "sha256": document.sha256},
        )
    return document


def truncate_ip(raw: str | None) -> str:
    """Keep the network, drop the host: /24 for IPv4, /48 for IPv6."""
    if not raw:
        return ""
    try:
        address = ipaddress.ip_address(raw.strip())
    except ValueError:
        return ""
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


@dataclass(frozen=True)
class ConsentAct:
    """What the person did: ticked the box, typed their name, against this document version."""

    checked: bool
    signature_name: str
    document_version: int | None
    ip: str | None = None
    user_agent: str = ""


#: Unicode categories a typed name never needs: controls (Cc), format characters (Cf: zero-width
#: spaces and joiners, bidi overrides that make a name read differently than it is stored),
#: surrogates (Cs), private use (Co), unassigned (Cn), line and paragraph separators (Zl, Zp).
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_REPLACEMENT_CHARACTER = "\ufffd"  # what undecodable bytes (invalid UTF-8) become


def clean_signature(raw: str) -> str:
    """The typed-name e-signature as it is stored: NFC, trimmed, inner runs of spaces made one.

    Raises ConsentError when it cannot be a name: fewer than two letters, or a character no name
    needs (control, zero-width, bidi override, undecodable bytes).
    """
    name = unicodedata.normalize("NFC", raw or "")
    if _REPLACEMENT_CHARACTER in name or any(
        unicodedata.category(char) in _REFUSED_CATEGORIES for char in name
    ):
        raise ConsentError(
            "Your signature holds a character a name does not use (an invisible or control character). "
            "Please type your full name again."
        )
    name = " ".join(name.split())
    if sum(1 for char in name if unicodedata.category(char).startswith("L")) < 2:
        raise ConsentError("Please type your full name as your signature.")
    if len(name) > 200:
        raise ConsentError("Your signature is longer than 200 characters; please shorten it.")
    return name


def check_biometric_consent(act: ConsentAct, document: ConsentDocument | None = None) -> ConsentDocument:
    """Validate the act against the current biometric document; raise ConsentError with a plain message.

    `document` is the current document when the caller has just loaded it (one query per upload).
    """
    document = document or current_document(ConsentKind.BIOMETRIC)
    if not act.checked:
        raise ConsentError("Please tick the box to give your explicit consent to process your photo.")
    clean_signature(act.signature_name)
    if act.document_version is not None and act.document_version != document.version:
        raise ConsentError(
            "The consent notice has changed since you loaded the page. "
            "Please read the current notice and try again."
        )
    return document


def record_biometric_consent(
    act: ConsentAct,
    *,
    subject_type: ConsentSubjectType = ConsentSubjectType.ANONYMOUS_JOB,
    subject_id: str,
    job_id: Any = None,
    user: Any = None,
    organisation: Any = None,
    document: ConsentDocument | None = None,
) -> ConsentRecord:
    """Check and record one explicit biometric consent. Raises ConsentError when the act is not valid.

    `document`: the current document, when the caller already checked the act against it.
    """
    document = check_biometric_consent(act, document)
    with transaction.atomic():
        record = ConsentRecord.objects.create(
            action=ConsentAction.GIVEN,
            subject_type=subject_type,
            subject_id=str(subject_id),
            user=user,
            job_id=job_id,
            organisation=organisation,
            document=document,
            document_kind=document.kind,
            document_version=document.version,
            document_sha256=document.sha256,
            signature_name=clean_signature(act.signature_name),
            ip_truncated=truncate_ip(act.ip),
            user_agent=(act.user_agent or "")[:300],
            purpose=BIOMETRIC_PURPOSE,
            jurisdiction_basis=BIOMETRIC_BASIS,
        )
        record_event(
            "consent.given",
            actor=f"{subject_type}:{subject_id}",
            object_type="consent_record",
            object_id=str(record.id),
            data={"document": f"{document.kind}:v{document.version}", "document_sha256": document.sha256},
        )
    return record


def subject_records(
    *, job_id: Any = None, user: Any = None, user_id: int | None = None
) -> QuerySet[ConsentRecord]:
    """Every consent record (given and withdrawn) of one subject."""
    user_id = user.pk if user is not None else user_id
    condition = Q(pk__in=[])
    if job_id is not None:
        condition |= Q(job_id=job_id)
    if user_id is not None:
        condition |= Q(user_id=user_id) | Q(subject_type=ConsentSubjectType.USER, subject_id=str(user_id))
    return ConsentRecord.objects.filter(condition)


def active_consents(*, job_id: Any = None, user: Any = None) -> list[ConsentRecord]:
    """Given consents of the subject that have not been withdrawn."""
    return list(
        subject_records(job_id=job_id, user=user)
        .filter(action=ConsentAction.GIVEN, withdrawals__isnull=True)
        .select_related("document")
        .order_by("recorded_at")
    )


def withdraw_consent(
    *, job_id: Any = None, user: Any = None, actor: str, ip: str | None = None, user_agent: str = ""
) -> list[ConsentRecord]:
    """Withdraw every active consent of one subject and erase that subject's portraits.

    Withdrawal is a new record per consent (the originals stay untouched, GDPR Art. 7(1) proof).
    The erasure cascade then runs every registered eraser with the "biometric" scope: photos,
    portraits and their keys go; an account stays. Returns the withdrawal records.
    """
    from compliance.services.erasure import ErasureScope, Subject, erase_subject

    if (job_id is None) == (user is None):
        raise ValueError("withdraw_consent needs exactly one of job_id or user.")
    records: list[ConsentRecord] = []
    with transaction.atomic():
        for given in active_consents(job_id=job_id, user=user):
            withdrawal = ConsentRecord.objects.create(
                action=ConsentAction.WITHDRAWN,
                subject_type=given.subject_type,
                subject_id=given.subject_id,
                user=given.user,
                job_id=given.job_id,
                organisation=given.organisation,
                document=given.document,
                document_kind=given.document_kind,
                document_version=given.document_version,
                document_sha256=given.document_sha256,
                method=WITHDRAWAL_METHOD,
                ip_truncated=truncate_ip(ip),
                user_agent=(user_agent or "")[:300],
                purpose=given.purpose,
                jurisdiction_basis=given.jurisdiction_basis,
                withdraws=given,
            )
            record_event(
                "consent.withdrawn",
                actor=actor,
                object_type="consent_record",
                object_id=str(withdrawal.id),
                data={"withdraws": str(given.id), "document_sha256": given.document_sha256},
            )
            records.append(withdrawal)
    if job_id is not None:
        subject = Subject(job_ids=(str(job_id),), scope=ErasureScope.BIOMETRIC)
        reference = f"job:{job_id}"
    else:
        subject = Subject(user_id=user.pk, scope=ErasureScope.BIOMETRIC)
        reference = f"user:{user.pk}"
    erase_subject(subject, reason="consent_withdrawn", actor=actor, reference=reference)
    return records


def _record_as_dict(record: ConsentRecord) -> dict[str, Any]:
    return {
        "id": str(record.id),
        "action": record.action,
        "recorded_at": record.recorded_at.isoformat(),
        "subject_type": record.subject_type,
        "subject_id": record.subject_id,
        "job_id": str(record.job_id) if record.job_id else None,
        "organisation_id": record.organisation_id,
        "document": {
            "kind": record.document_kind,
            "version": record.document_version,
            "sha256": record.document_sha256,
        },
        "method": record.method,
        "signature_name": record.signature_name,
        "ip_truncated": record.ip_truncated,
        "user_agent": record.user_agent,
        "purpose": record.purpose,
        "jurisdiction_basis": record.jurisdiction_basis,
        "withdraws": str(record.withdraws_id) if record.withdraws_id else None,
    }


def consent_history(*, job_ids: tuple[str, ...] = (), user_id: int | None = None) -> dict[str, Any]:
    """A subject's consent history as JSON-ready data, oldest first, with the texts they saw."""
    condition = Q(pk__in=[])
    for job_id in job_ids:
        condition |= Q(job_id=job_id)
    if user_id is not None:
        condition |= Q(user_id=user_id) | Q(subject_type=ConsentSubjectType.USER, subject_id=str(user_id))
    records = list(ConsentRecord.objects.filter(condition).select_related("document").order_by("recorded_at"))
    documents = {r.document_id: r.document for r in records}
    return {
        "schema": "proportrait.consent-history/1",
        "generated_at": timezone.now().isoformat(),
        "records": [_record_as_dict(r) for r in records],
        "documents": [
            {
                "kind": d.kind,
                "version": d.version,
                "title": d.title,
                "sha256": d.sha256,
                "effective_at": d.effective_at.isoformat(),
                "text": d.text,
            }
            for d in documents.values()
        ],
    }


def minimise_consent_evidence(now: datetime | None = None) -> int:
    """Blank the typed name, truncated IP and user agent of consent records whose subject's data
    has all been erased for longer than PROPORTRAIT_CONSENT_EVIDENCE_DAYS; returns how many.

    What stays (document version and hash, purpose, dates, withdrawal links) still proves which
    text was agreed to and when. Records are otherwise immutable, so this is the one update
    made to them, in a single statement, audited with a count only.
    - Anonymous job: the job is deleted and was deleted before the limit.
    - User: their data was erased (a certificate referencing "user:<id>") before the limit and
      they have given no consent since, so nothing has been collected since either.
    """
    now = now or timezone.now()
    limit = now - timedelta(days=settings.PROPORTRAIT_CONSENT_EVIDENCE_DAYS)
    condition = Q(pk__in=[])
    try:
        job_model = apps.get_model("portraits", "PortraitJob")
    except LookupError:
        job_model = None
    if job_model is not None:
        erased_jobs = job_model.objects.filter(status="deleted", deleted_at__lt=limit).values("id")
        condition |= Q(subject_type=ConsentSubjectType.ANONYMOUS_JOB, job_id__in=erased_jobs)
    erased_users: dict[str, datetime] = {}
    for reference, completed_at in DeletionCertificate.objects.filter(
        reference__startswith="user:", failures=[]
    ).values_list("reference", "completed_at"):
        user_id = reference.removeprefix("user:")
        erased_users[user_id] = max(completed_at, erased_users.get(user_id, completed_at))
    for user_id, erased_at in erased_users.items():
        if erased_at >= limit or not user_id.isdigit():
            continue
        given_since = ConsentRecord.objects.filter(
            Q(user_id=int(user_id)) | Q(subject_type=ConsentSubjectType.USER, subject_id=user_id),
            action=ConsentAction.GIVEN,
            recorded_at__gt=erased_at,
        ).exists()
        if not given_since:
            condition |= Q(user_id=int(user_id)) | Q(subject_type=ConsentSubjectType.USER, subject_id=user_id)
    with transaction.atomic():
        minimised = (
            ConsentRecord.objects.filter(condition)
            .exclude(signature_name="", ip_truncated="", user_agent="")
            .update(signature_name="", ip_truncated="", user_agent="")
        )
        if minimised:
            record_event("consent.evidence_minimised", data={"records": minimised})
    return minimised
