"""Data subject requests: receipt, verification, deadlines, fulfilment, closing.

Lifecycle: unverified -> verified -> in_progress -> completed | denied (GDPR Art. 12,
CCPA 11 CCR 7021-7022). Every state change is audited and emailed to the requester.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from compliance.audit import record_event
from compliance.models import (
    AUTOMATIC_DSAR_TYPES,
    DataSubjectRequest,
    DeletionCertificate,
    DsarHold,
    DsarStatus,
    DsarType,
    Jurisdiction,
)
from compliance.services.erasure import Subject, erase_subject, erasure_blockers, notice_summary
from compliance.services.exports import export_subject_data, store_export, subject_holds_data
from proportrait import ratelimit
from proportrait.addresses import normalise_email
from proportrait.emails import send_email
from proportrait.http import ip_bucket

logger = logging.getLogger(__name__)


class DsarError(Exception):
    """A request cannot go where it was asked to; `code` is the API error code."""

    def __init__(self, code: str, message: str, http_status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status


# --- Deadlines.


def add_calendar_months(moment: datetime, months: int) -> datetime:
    """Same day `months` later, or the month's last day when it is shorter (Jan 31 -> Feb 28/29)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


GDPR_JURISDICTIONS = {Jurisdiction.EU_UK, Jurisdiction.UNKNOWN, Jurisdiction.OTHER}
US_JURISDICTIONS = {Jurisdiction.CALIFORNIA, Jurisdiction.OTHER_US, Jurisdiction.UNKNOWN, Jurisdiction.OTHER}


def due_date(received_at: datetime, jurisdiction: str) -> datetime:
    """The earliest deadline among the laws that may apply: one calendar month (GDPR Art. 12(3),
    not 30 days) and 45 days (CCPA 7021(b)); when we do not know where the person lives, both."""
    candidates = []
    if jurisdiction in GDPR_JURISDICTIONS:
        candidates.append(add_calendar_months(received_at, 1))
    if jurisdiction in US_JURISDICTIONS:
        candidates.append(received_at + timedelta(days=45))
    return min(candidates)


def extended_due_date(due_at: datetime, jurisdiction: str) -> datetime:
    """GDPR allows two further months, CCPA 45 further days; the earliest applicable wins."""
    candidates = []
    if jurisdiction in GDPR_JURISDICTIONS:
        candidates.append(add_calendar_months(due_at, 2))
    if jurisdiction in US_JURISDICTIONS:
        candidates.append(due_at + timedelta(days=45))
    return min(candidates)


def days_left(request: DataSubjectRequest, now: datetime | None = None) -> int:
    """Whole days until the deadline; negative once overdue."""
    remaining = request.due_at - (now or timezone.now())
    return remaining.days


# --- Helpers.


def email_digest(email: str) -> str:
    """A keyed hash of the address: links a person's requests without keeping the address.

    The address is normalised first (proportrait.addresses), the same form every account lookup
    compares. Keyed (HMAC with the secret key) so that the hash cannot be reversed by hashing guessed
    addresses; rotating the secret key only stops old requests being linked as duplicates.
    """
    normalised = (normalise_email(email) or email.strip().casefold()).encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"dsar-email:" + normalised, hashlib.sha256).hexdigest()


def _code_digest(request_id: Any, code: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"dsar:{request_id}:{code}".encode(), hashlib.sha256
    ).hexdigest()


def _actor(request: DataSubjectRequest) -> str:
    return f"dsar:{request.id}"


def _notify(request: DataSubjectRequest, name: str, *, to: str = "", **context: Any) -> None:
    address = to or request.email
    if not address:
        return
    send_email(
        name,
        [address],
        {
            "request": request,
            "reference": request.reference,
            "request_type": request.get_request_type_display(),
            "status": request.get_status_display(),
            "due_at": request.due_at,
            "privacy_email": settings.PROPORTRAIT_PRIVACY_EMAIL,
            "company": settings.PROPORTRAIT_COMPANY_NAME,
            **context,
        },
    )


def _issue_code(request: DataSubjectRequest) -> str:
    code = f"{secrets.randbelow(1_000_000):06d}"
    now = timezone.now()
    request.code_hash = _code_digest(request.id, code)
    request.code_expires_at = now + timedelta(minutes=settings.COMPLIANCE_DSAR_CODE_MINUTES)
    request.code_attempts = 0
    request.code_sent_at = now
    request.codes_sent += 1
    request.save(
        update_fields=["code_hash", "code_expires_at", "code_attempts", "code_sent_at", "codes_sent"]
    )
    return code


def _verify_url(request: DataSubjectRequest) -> str:
    return settings.SITE_URL + reverse("compliance:dsar_verify", args=[request.id])


def _address_digest(ip: str | None) -> str:
    try:
        bucket = ip_bucket(ip)
    except ValueError:
        bucket = "unknown"
    return hashlib.sha256(f"{settings.SECRET_KEY}:{bucket}".encode()).hexdigest()[:32]


def _record_refusal(limit: str) -> None:
    # Refusals are evidence too (who was turned away, and by which limit), kept without the
    # address or the network: the audit log holds neither.
    record_event("dsar.rate_limited", actor="anonymous", object_type="dsar", data={"limit": limit})


def _check_rate(ip: str | None) -> None:
    count = ratelimit.hit(f"compliance:dsar-rate:{_address_digest(ip)}", 3600)
    if count > settings.COMPLIANCE_DSAR_REQUESTS_PER_HOUR:
        _record_refusal("requests_per_network_hour")
        raise DsarError(
            "rate_limited",
            "Too many requests from your network. Please try again in an hour.",
            http_status=429,
        )


# Limits across requests: one request allows only a few codes and tries, but a person (or a
# network) could open request after request and keep guessing. These count per email digest
# *from one network* and per network over a day: never per address alone, so that requests
# naming someone's address from other networks cannot use up that person's own quota.
DAY_SECONDS = 24 * 3600


def _quota_keys(kind: str, email_sha256: str, ip: str | None) -> tuple[str, str]:
    network = _address_digest(ip)
    return (
        f"compliance:dsar-{kind}:email:{email_sha256[:32]}:{network}",
        f"compliance:dsar-{kind}:address:{network}",
    )


def _check_code_quota(email_sha256: str, ip: str | None) -> None:
    email_key, address_key = _quota_keys("codes", email_sha256, ip)
    if ratelimit.count(email_key, DAY_SECONDS) >= settings.COMPLIANCE_DSAR_CODES_PER_EMAIL_PER_DAY or (
        ratelimit.count(address_key, DAY_SECONDS) >= settings.COMPLIANCE_DSAR_CODES_PER_ADDRESS_PER_DAY
    ):
        _record_refusal("codes_per_day")
        raise DsarError(
            "rate_limited",
            "We have sent the most verification codes we can for today. Please try again tomorrow.",
            http_status=429,
        )


def _count_code_sent(email_sha256: str, ip: str | None) -> None:
    for key in _quota_keys("codes", email_sha256, ip):
        ratelimit.hit(key, DAY_SECONDS)


def _check_failure_quota(email_sha256: str, ip: str | None) -> None:
    email_key, address_key = _quota_keys("failures", email_sha256, ip)
    if ratelimit.count(email_key, DAY_SECONDS) >= settings.COMPLIANCE_DSAR_FAILED_CODES_PER_EMAIL_PER_DAY or (
        ratelimit.count(address_key, DAY_SECONDS) >= settings.COMPLIANCE_DSAR_FAILED_CODES_PER_ADDRESS_PER_DAY
    ):
        raise DsarError(
            "rate_limited",
            "Too many wrong codes today. Please try again tomorrow.",
            http_status=429,
        )


def _count_failure(email_sha256: str, ip: str | None) -> None:
    for key in _quota_keys("failures", email_sha256, ip):
        ratelimit.hit(key, DAY_SECONDS)


#: A request can only be covered by one still being worked on. A finished one says nothing about
#: data collected since (an erasure last week does not erase a job made yesterday). Unverified
#: requests are not linked to either: anyone can type someone else's email.
DUPLICATE_TARGET_STATUSES = (DsarStatus.VERIFIED, DsarStatus.IN_PROGRESS)


def _find_duplicate(email_sha256: str, request_type: str, now: datetime) -> DataSubjectRequest | None:
    window = now - timedelta(days=settings.COMPLIANCE_DSAR_DUPLICATE_WINDOW_DAYS)
    return (
        DataSubjectRequest.objects.filter(
            email_sha256=email_sha256,
            request_type=request_type,
            received_at__gte=window,
            duplicate_of__isnull=True,
            status__in=DUPLICATE_TARGET_STATUSES,
        )
        .order_by("received_at")
        .first()
    )


# --- Whose address is it?


def find_account(email: str) -> Any:
    """The active account whose stored address normalises like `email` (proportrait.addresses),
    compared exactly: never a database case-insensitive match, whose folding differs by stack."""
    key = normalise_email(email)
    if not key:
        return None
    return get_user_model().objects.filter(email_key=key, is_active=True).first()


# --- Receipt and verification.


def create_request(
    *,
    email: str,
    request_type: str,
    details: str = "",
    job_reference: str = "",
    jurisdiction: str = Jurisdiction.UNKNOWN,
    ip: str | None = None,
    signed_in_user: Any = None,
) -> DataSubjectRequest:
    """Record a request, email its receipt with a verification code, and return it.

    A job reference (the bearer token of an anonymous job) is resolved here and only the job id
    it proves is kept; nothing is done with it until the email is verified.

    When the address belongs to an account, every message goes to the account's stored address,
    never to the spelling that was typed, and the request will need the account holder to sign
    in before anything is released or erased (confirm_by_account).

    A signed-in account holder asking about their own address is never refused by the rate
    limits: those exist to stop others, and cannot be used against the holder.
    """
    account = find_account(email)
    own_request = (
        account is not None
        and signed_in_user is not None
        and getattr(signed_in_user, "is_authenticated", False)
        and signed_in_user.pk == account.pk
    )
    if not own_request:
        _check_rate(ip)
    if request_type not in DsarType.values:
        raise DsarError("invalid_request", f"request_type must be one of: {', '.join(DsarType.values)}.")
    if jurisdiction not in Jurisdiction.values:
        raise DsarError("invalid_request", f"jurisdiction must be one of: {', '.join(Jurisdiction.values)}.")
    email = email.strip()
    if not email or "@" not in email:
        raise DsarError("invalid_request", "Please give the email address we can reach you at.")
    if account is not None:
        email = account.email
    now = timezone.now()
    digest = email_digest(email)
    if not own_request:
        _check_code_quota(digest, ip)
    with transaction.atomic():
        request = DataSubjectRequest.objects.create(
            request_type=request_type,
            email=email,
            email_sha256=digest,
            jurisdiction=jurisdiction,
            details=details.strip()[:5000],
            proven_job_id=resolve_job_reference(job_reference[:200]) or "",
            received_at=now,
            due_at=due_date(now, jurisdiction),
            duplicate_of=_find_duplicate(digest, request_type, now),
        )
        code = _issue_code(request)
        _count_code_sent(digest, ip)
        record_event(
            "dsar.received",
            actor=_actor(request),
            object_type="dsar",
            object_id=str(request.id),
            data={
                "type": request_type,
                "jurisdiction": jurisdiction,
                "due_at": request.due_at.isoformat(),
                "duplicate_of": str(request.duplicate_of_id) if request.duplicate_of_id else None,
            },
        )
        _notify(
            request,
            "dsar-received",
            code=code,
            code_minutes=settings.COMPLIANCE_DSAR_CODE_MINUTES,
            verify_url=_verify_url(request),
            duplicate_of=request.duplicate_of,
        )
    return request


def resend_code(request_id: Any, *, ip: str | None = None) -> DataSubjectRequest:
    """Email a fresh code; rate limited per request (spacing and a total), and per email and
    per client address over a day."""
    with transaction.atomic():
        request = DataSubjectRequest.objects.select_for_update().get(pk=request_id)
        if request.status != DsarStatus.UNVERIFIED:
            raise DsarError("already_verified", "This request is already verified.")
        now = timezone.now()
        if request.codes_sent >= settings.COMPLIANCE_DSAR_MAX_CODES:
            raise DsarError(
                "rate_limited",
                "We have sent the most codes we can for this request. Please submit a new request.",
                http_status=429,
            )
        if request.code_sent_at and now - request.code_sent_at < timedelta(
            seconds=settings.COMPLIANCE_DSAR_RESEND_SECONDS
        ):
            raise DsarError(
                "rate_limited",
                "We sent a code a moment ago. Please wait a minute, then ask again.",
                http_status=429,
            )
        _check_code_quota(request.email_sha256, ip)
        code = _issue_code(request)
        _count_code_sent(request.email_sha256, ip)
        record_event("dsar.code_resent", actor=_actor(request), object_type="dsar", object_id=str(request.id))
        _notify(
            request,
            "dsar-code",
            code=code,
            code_minutes=settings.COMPLIANCE_DSAR_CODE_MINUTES,
            verify_url=_verify_url(request),
        )
    return request


def verify_request(request_id: Any, code: str, *, ip: str | None = None) -> DataSubjectRequest:
    """Check the emailed code. Raises DsarError (invalid_code, code_expired, too_many_attempts,
    already_verified, rate_limited); on success matches the identity to our data and queues
    fulfilment. Wrong codes count per request, and per email and client address over a day."""
    with transaction.atomic():
        request = DataSubjectRequest.objects.select_for_update().get(pk=request_id)
        if request.status != DsarStatus.UNVERIFIED:
            raise DsarError("already_verified", "This request is already verified.")
        _check_failure_quota(request.email_sha256, ip)
        if request.code_attempts >= settings.COMPLIANCE_DSAR_CODE_MAX_ATTEMPTS:
            raise DsarError("too_many_attempts", "Too many wrong codes. Ask for a new code and try again.")
        if not request.code_expires_at or timezone.now() > request.code_expires_at:
            raise DsarError("code_expired", "This code has expired. Ask for a new code and try again.")
        if not hmac.compare_digest(request.code_hash, _code_digest(request.id, (code or "").strip())):
            request.code_attempts += 1
            request.save(update_fields=["code_attempts"])
            _count_failure(request.email_sha256, ip)
            record_event(
                "dsar.code_rejected", actor=_actor(request), object_type="dsar", object_id=str(request.id)
            )
            wrong_code = True
        else:
            wrong_code = False
    # Raised after the block commits: the failed try must count even though the call fails.
    if wrong_code:
        left = settings.COMPLIANCE_DSAR_CODE_MAX_ATTEMPTS - request.code_attempts
        raise DsarError("invalid_code", f"That code is not right. You have {left} tries left.")
    with transaction.atomic():
        request = DataSubjectRequest.objects.select_for_update().get(pk=request_id)
        if request.status != DsarStatus.UNVERIFIED:
            raise DsarError("already_verified", "This request is already verified.")
        request.status = DsarStatus.VERIFIED
        request.verified_at = timezone.now()
        request.code_hash = ""
        request.matched_subject = _match_identity(request)
        original = request.duplicate_of
        if original is not None and original.status not in DUPLICATE_TARGET_STATUSES:
            # The original finished while this one waited for its code: it no longer covers this one.
            request.duplicate_of = original = None
        request.save(update_fields=["status", "verified_at", "code_hash", "matched_subject", "duplicate_of"])
        record_event(
            "dsar.verified",
            actor=_actor(request),
            object_type="dsar",
            object_id=str(request.id),
            data={"matched": request.matched_subject},
        )
        account_id = request.matched_subject.get("user_id")
        if original is None and account_id is not None and request.request_type in AUTOMATIC_DSAR_TYPES:
            # The mailbox alone does not release or erase an account's data: its holder signs in.
            request.hold = DsarHold.ACCOUNT_SIGN_IN
            request.save(update_fields=["hold"])
            record_event(
                "dsar.held",
                actor=_actor(request),
                object_type="dsar",
                object_id=str(request.id),
                data={"hold": request.hold},
            )
        _notify(request, "dsar-verified", confirm_url=confirm_url(request))
        if original is not None:
            _close(
                request,
                DsarStatus.COMPLETED,
                actor=_actor(request),
                resolution_note=f"This request repeats {original.reference}, which covers it.",
            )
        elif request.request_type in AUTOMATIC_DSAR_TYPES and not request.hold:
            _queue_fulfilment(request)
    return request


def _queue_fulfilment(request: DataSubjectRequest) -> None:
    from compliance import tasks

    request_pk = str(request.id)
    transaction.on_commit(lambda: tasks.fulfil_request.delay(request_pk))


def confirm_url(request: DataSubjectRequest) -> str:
    return settings.SITE_URL + reverse("compliance:dsar_confirm", args=[request.id])


def account_confirmation_needed(request: DataSubjectRequest) -> bool:
    return request.status == DsarStatus.VERIFIED and request.hold == DsarHold.ACCOUNT_SIGN_IN


def confirm_by_account(request_id: Any, user: Any, *, second_factor_passed: bool) -> DataSubjectRequest:
    """The signed-in account holder confirms a request made with their address, so it can run.

    Raises DsarError: `not_found` when the request is not for this account (the caller answers
    404, telling nothing), `second_factor_required` when the account has a second factor this
    session has not passed, `invalid_transition` when nothing waits for confirmation.
    """
    with transaction.atomic():
        request = DataSubjectRequest.objects.select_for_update().get(pk=request_id)
        matched = request.matched_subject or {}
        if matched.get("user_id") is None or matched.get("user_id") != user.pk:
            raise DsarError("not_found", "No such request for this account.", http_status=404)
        if not account_confirmation_needed(request):
            raise DsarError("invalid_transition", "This request is not waiting for your confirmation.")
        if _has_second_factor(user) and not second_factor_passed:
            raise DsarError(
                "second_factor_required",
                "Enter a code from your authenticator app first.",
                http_status=403,
            )
        request.hold = DsarHold.NONE
        request.account_confirmed_at = timezone.now()
        request.save(update_fields=["hold", "account_confirmed_at"])
        record_event(
            "dsar.account_confirmed",
            actor=f"user:{user.pk}",
            object_type="dsar",
            object_id=str(request.id),
            data={"second_factor": bool(second_factor_passed)},
        )
        _queue_fulfilment(request)
    return request


def release_held_request(request: DataSubjectRequest, *, note: str, actor: str) -> DataSubjectRequest:
    """Staff release a held request after checking the requester's identity (or the organisation's
    ownership) another way; the note says how, and stays on the record."""
    if not note.strip():
        raise DsarError("reason_required", "Say how the identity or ownership was checked.")
    with transaction.atomic():
        changed = DataSubjectRequest.objects.filter(
            pk=request.pk,
            status=DsarStatus.VERIFIED,
            hold__in=[DsarHold.ACCOUNT_SIGN_IN, DsarHold.SOLE_OWNER],
        ).update(hold=DsarHold.NONE, account_confirmed_at=timezone.now())
        if changed != 1:
            raise DsarError("invalid_transition", "This request is not held.")
        request.refresh_from_db()
        record_event(
            "dsar.released",
            actor=actor,
            object_type="dsar",
            object_id=str(request.id),
            data={"note_sha256": hashlib.sha256(note.strip().encode()).hexdigest()},
        )
        _queue_fulfilment(request)
    return request


def _has_second_factor(user: Any) -> bool:
    from django_otp import user_has_device

    return bool(user_has_device(user, confirmed=True))


# --- Identity matching: only data the verified email (or a proven job token) leads to.

JobResolver = Callable[[str], "str | None"]
_JOB_RESOLVERS: list[JobResolver] = []


def register_job_resolver(resolver: JobResolver) -> None:
    """portraits may register a function: job token -> job id (or None when it proves nothing)."""
    _JOB_RESOLVERS.append(resolver)


def _default_job_resolver(reference: str) -> str | None:
    # Without a registered resolver, a job token proves possession if its SHA-256 is the job's
    # token hash. A bare job id proves nothing and matches nothing.
    try:
        job_model = apps.get_model("portraits", "PortraitJob")
    except LookupError:
        return None
    digest = hashlib.sha256(reference.encode()).hexdigest()
    job_id = job_model.objects.filter(token_hash=digest).values_list("id", flat=True).first()
    return str(job_id) if job_id else None


def resolve_job_reference(reference: str) -> str | None:
    reference = reference.strip()
    if not reference:
        return None
    for resolver in _JOB_RESOLVERS:
        job_id = resolver(reference)
        if job_id:
            return str(job_id)
    return _default_job_resolver(reference)


def _match_identity(request: DataSubjectRequest) -> dict[str, Any]:
    user = find_account(request.email)
    job_ids = [request.proven_job_id] if request.proven_job_id else []
    return {"user_id": user.pk if user else None, "job_ids": job_ids}


def subject_for(request: DataSubjectRequest) -> Subject:
    matched = request.matched_subject or {}
    return Subject(
        user_id=matched.get("user_id"),
        email=request.email,
        job_ids=tuple(matched.get("job_ids") or ()),
    )


# --- Transitions.

_ALLOWED: dict[str, set[str]] = {
    DsarStatus.UNVERIFIED: {DsarStatus.VERIFIED, DsarStatus.DENIED},
    DsarStatus.VERIFIED: {DsarStatus.IN_PROGRESS, DsarStatus.COMPLETED, DsarStatus.DENIED},
    DsarStatus.IN_PROGRESS: {DsarStatus.COMPLETED, DsarStatus.DENIED},
}


def _move(request: DataSubjectRequest, to: str, *, actor: str, **fields: Any) -> None:
    """Claim the transition with a filtered update, so two workers never both run it."""
    if to not in _ALLOWED.get(request.status, set()):
        raise DsarError(
            "invalid_transition", f"A {request.get_status_display().lower()} request cannot become {to}."
        )
    changed = DataSubjectRequest.objects.filter(pk=request.pk, status=request.status).update(
        status=to, **fields
    )
    if changed != 1:
        raise DsarError("invalid_transition", "The request changed meanwhile; reload and try again.")
    previous = request.status
    request.status = to
    for name, value in fields.items():
        setattr(request, name, value)
    record_event(
        f"dsar.{to}",
        actor=actor,
        object_type="dsar",
        object_id=str(request.id),
        data={"from": previous},
    )


def _close(request: DataSubjectRequest, to: str, *, actor: str, to_email: str = "", **fields: Any) -> None:
    _move(request, to, actor=actor, closed_at=timezone.now(), **fields)
    template = "dsar-completed" if to == DsarStatus.COMPLETED else "dsar-denied"
    _notify(request, template, to=to_email, **_completion_links(request))
    forget_contact(request)


def forget_contact(request: DataSubjectRequest) -> None:
    """A closed request keeps its record (type, dates, outcome) but not who made it or what they wrote.

    The final email has already taken its address (send_email copies the recipients).
    """
    DataSubjectRequest.objects.filter(pk=request.pk).update(
        email="", details="", proven_job_id="", matched_subject={}
    )
    request.email, request.details, request.proven_job_id, request.matched_subject = "", "", "", {}


def _completion_links(request: DataSubjectRequest) -> dict[str, Any]:
    links: dict[str, Any] = {}
    if request.certificate_id:
        links["certificate_url"] = certificate_url(request.certificate_id)
        certificate = DeletionCertificate.objects.get(pk=request.certificate_id)
        links["nothing_found"] = certificate.found_nothing
        links.update(notice_summary(certificate))
        # The mail states the same counts as the certificate, and what stays.
        erased = (certificate.scope or {}).get("erased", {})
        links["erased_counts"] = [
            (category, int(count))
            for categories in erased.values()
            for category, count in categories.items()
            if count
        ]
        links["remains"] = certificate.remains
    return links


def certificate_url(certificate_id: Any) -> str:
    token = signing.dumps(str(certificate_id), salt="compliance.certificate")
    return settings.SITE_URL + reverse("compliance:certificate_pdf", args=[token])


def start_request(request: DataSubjectRequest, *, actor: str) -> DataSubjectRequest:
    """Staff take a manual request (rectification, objection) into work."""
    with transaction.atomic():
        _move(request, DsarStatus.IN_PROGRESS, actor=actor, started_at=timezone.now())
        _notify(request, "dsar-in-progress")
    return request


def complete_request(request: DataSubjectRequest, *, note: str, actor: str) -> DataSubjectRequest:
    """Staff close a manual request, saying what was done."""
    if not note.strip():
        raise DsarError("reason_required", "Say what was done; the requester receives this note.")
    with transaction.atomic():
        _close(request, DsarStatus.COMPLETED, actor=actor, resolution_note=note.strip())
    return request


def deny_request(request: DataSubjectRequest, *, reason: str, actor: str) -> DataSubjectRequest:
    """Refuse a request (e.g. manifestly unfounded); the reason is sent to the requester."""
    if not reason.strip():
        raise DsarError("reason_required", "A denial needs a reason; the requester receives it.")
    with transaction.atomic():
        _close(request, DsarStatus.DENIED, actor=actor, denial_reason=reason.strip())
    return request


def extend_request(request: DataSubjectRequest, *, reason: str, actor: str) -> DataSubjectRequest:
    """Extend the deadline once, before it passes, with a reason the requester is told (Art. 12(3))."""
    if not reason.strip():
        raise DsarError("reason_required", "An extension needs a reason; the requester receives it.")
    if not request.is_open:
        raise DsarError("invalid_transition", "A closed request cannot be extended.")
    if request.extended_at:
        raise DsarError("already_extended", "This request has already been extended once.")
    now = timezone.now()
    if now > request.due_at:
        raise DsarError("overdue", "The deadline has passed; an extension must be given before it.")
    new_due = extended_due_date(request.due_at, request.jurisdiction)
    with transaction.atomic():
        changed = DataSubjectRequest.objects.filter(pk=request.pk, extended_at__isnull=True).update(
            due_at=new_due, extended_at=now, extension_reason=reason.strip()
        )
        if changed != 1:
            raise DsarError("already_extended", "This request has already been extended once.")
        previous_due = request.due_at
        request.due_at, request.extended_at, request.extension_reason = new_due, now, reason.strip()
        record_event(
            "dsar.extended",
            actor=actor,
            object_type="dsar",
            object_id=str(request.id),
            data={"from_due_at": previous_due.isoformat(), "due_at": new_due.isoformat()},
        )
        _notify(request, "dsar-extended", reason=request.extension_reason)
    return request


# --- Fulfilment (runs in a Celery task once verified).


def fulfil_request(request_id: Any) -> DataSubjectRequest:
    """Run an access, portability or erasure request end to end; idempotent per request."""
    request = DataSubjectRequest.objects.get(pk=request_id)
    if request.status != DsarStatus.VERIFIED or request.request_type not in AUTOMATIC_DSAR_TYPES:
        return request
    if request.hold:
        return request
    if (request.matched_subject or {}).get("user_id") is not None and request.account_confirmed_at is None:
        # An account's data needs its holder (or staff) to confirm, never the mailbox alone.
        return request
    actor = _actor(request)
    if request.request_type == DsarType.ERASURE:
        blockers = erasure_blockers(subject_for(request))
        if blockers:
            _hold_for_staff(request, DsarHold.SOLE_OWNER, actor=actor, blockers=blockers)
            return request
    email = request.email  # the erasure below removes it from our records
    with transaction.atomic():
        _move(request, DsarStatus.IN_PROGRESS, actor=actor, started_at=timezone.now())
        _notify(request, "dsar-in-progress")
    subject = subject_for(request)
    if request.request_type == DsarType.ERASURE:
        certificate = erase_subject(subject, reason="dsar_erasure", actor=actor, reference=request.reference)
        DataSubjectRequest.objects.filter(pk=request.pk).update(certificate=certificate)
        request.certificate = certificate
        if certificate.failures:
            record_event(
                "dsar.stalled",
                actor=actor,
                object_type="dsar",
                object_id=str(request.id),
                data={"failures": certificate.failures},
            )
            return request
        with transaction.atomic():
            _close(
                request,
                DsarStatus.COMPLETED,
                actor=actor,
                to_email=email,
                resolution_note=NOTHING_FOUND_NOTE if certificate.found_nothing else ERASED_NOTE,
            )
            redact_request(request)
        return request

    if not subject_holds_data(subject, ignore_reference=request.reference):
        # Nothing to copy: say so, rather than send an archive that looks like an answer.
        with transaction.atomic():
            _close(request, DsarStatus.COMPLETED, actor=actor, resolution_note=NOTHING_FOUND_NOTE)
        return request

    archive = export_subject_data(subject, reference=request.reference, actor=actor)
    with transaction.atomic():
        export, link = store_export(archive, request=request)
        _move(
            request,
            DsarStatus.COMPLETED,
            actor=actor,
            closed_at=timezone.now(),
            resolution_note="Your data is ready to download.",
        )
        _notify(request, "dsar-completed", download_url=link, download_expires_at=export.expires_at)
        forget_contact(request)
    return request


def _hold_for_staff(request: DataSubjectRequest, hold: str, *, actor: str, blockers: list[str]) -> None:
    """Nothing is erased; staff review it, and the account's own address is told why."""
    with transaction.atomic():
        changed = DataSubjectRequest.objects.filter(pk=request.pk, status=DsarStatus.VERIFIED).update(
            hold=hold
        )
        if changed != 1:
            return
        request.hold = hold
        record_event(
            "dsar.held",
            actor=actor,
            object_type="dsar",
            object_id=str(request.id),
            data={"hold": hold, "blockers": len(blockers)},
        )
        _notify(request, "dsar-held", blockers=blockers)


ERASED_NOTE = "Erased; see the deletion certificate."
NOTHING_FOUND_NOTE = (
    "We found no data linked to this: no account, portraits, consent or other records for the address "
    "you gave (or the job reference, if you gave one). There was nothing to erase or copy."
)


def redact_request(request: DataSubjectRequest) -> None:
    """Remove the requester's contact, free text and what they matched from their closed requests;
    the record of each request (type, dates, outcome) stays, as CCPA 11 CCR 7101 asks.

    Open requests keep their contact: we still owe the person an answer to them, and each one is
    redacted as it closes (forget_contact)."""
    DataSubjectRequest.objects.filter(
        email_sha256=request.email_sha256, status__in=[DsarStatus.COMPLETED, DsarStatus.DENIED]
    ).update(email="", details="", proven_job_id="", matched_subject={})
    request.email, request.details, request.proven_job_id, request.matched_subject = "", "", "", {}


def certificate_for_token(token: str) -> DeletionCertificate | None:
    max_age = timedelta(days=settings.COMPLIANCE_CERTIFICATE_LINK_DAYS)
    try:
        certificate_id = signing.loads(token, salt="compliance.certificate", max_age=max_age)
    except signing.BadSignature:
        return None
    return DeletionCertificate.objects.filter(pk=certificate_id).first()
