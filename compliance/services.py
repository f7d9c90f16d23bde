"""Compliance services. Other apps call these, never the models directly."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from compliance.audit import record_event
from compliance.models import (
    ConsentAction,
    ConsentDocument,
    ConsentKind,
    ConsentRecord,
    ConsentSubjectType,
)

BIOMETRIC_PURPOSE = "Generate professional portraits from the uploaded photo, then destroy the photo."
BIOMETRIC_BASIS = "GDPR Art. 9(2)(a) explicit consent; BIPA 740 ILCS 14/15(b) written release; CUBI; RCW 19.375"


class ConsentError(Exception):
    """The consent act is missing or does not match the current document."""


def current_document(kind: ConsentKind | str) -> ConsentDocument:
    document = ConsentDocument.objects.filter(kind=kind).order_by("-version").first()
    if document is None:
        raise ConsentDocument.DoesNotExist(f"No {kind} consent document has been published.")
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


def check_biometric_consent(act: ConsentAct) -> ConsentDocument:
    """Validate the act against the current biometric document; raise ConsentError with a plain message."""
    document = current_document(ConsentKind.BIOMETRIC)
    if not act.checked:
        raise ConsentError("Please tick the box to give your explicit consent to process your photo.")
    name = (act.signature_name or "").strip()
    if len(name) < 2:
        raise ConsentError("Please type your full name as your signature.")
    if act.document_version is not None and act.document_version != document.version:
        raise ConsentError(
            "The consent notice has changed since you loaded the page. Please read the current notice and try again."
        )
    return document


def record_biometric_consent(
    act: ConsentAct,
    *,
    subject_type: ConsentSubjectType = ConsentSubjectType.ANONYMOUS_JOB,
    subject_id: str,
    job_id: Any = None,
    user: Any = None,
) -> ConsentRecord:
    """Check and record one explicit biometric consent. Raises ConsentError when the act is not valid."""
    document = check_biometric_consent(act)
    with transaction.atomic():
        record = ConsentRecord.objects.create(
            action=ConsentAction.GIVEN,
            subject_type=subject_type,
            subject_id=str(subject_id),
            user=user,
            job_id=job_id,
            document=document,
            document_kind=document.kind,
            document_version=document.version,
            document_sha256=document.sha256,
            signature_name=act.signature_name.strip()[:200],
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


# --- Erasure registry: every app declares what it holds about a subject.


@dataclass(frozen=True)
class Subject:
    """Who an erasure is for. Any field may be empty; erasers act on what they recognise."""

    user_id: int | None = None
    email: str = ""
    job_ids: tuple[str, ...] = ()


@dataclass
class ErasureReport:
    """What one eraser removed: categories and counts only, never the data."""

    app: str
    categories: dict[str, int] = field(default_factory=dict)
    systems: tuple[str, ...] = ("database",)
    notes: str = ""


Eraser = Callable[[Subject], ErasureReport]
_ERASERS: dict[str, Eraser] = {}


def register_eraser(name: str, eraser: Eraser) -> None:
    """Called from each app's AppConfig.ready()."""
    _ERASERS[name] = eraser


def registered_erasers() -> dict[str, Eraser]:
    return dict(_ERASERS)
