"""Daily housekeeping: enforce compliance's own retention values and raise deadline alerts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from compliance.audit import prune_events, record_event
from compliance.models import AUTOMATIC_DSAR_TYPES, DataExport, DataSubjectRequest, DsarStatus
from compliance.services.consent import minimise_consent_evidence
from compliance.services.exports import destroy_export
from compliance.services.registers import breaches_needing_notice
from proportrait.emails import delete_old_mail_files, send_email


def run_daily_housekeeping() -> dict[str, Any]:
    """Expire exports, delete stale requests, prune the audit log, alert staff about deadlines.

    Returns counts; the run itself is audited. Safe to run more than once a day.
    """
    now = timezone.now()
    counts: dict[str, Any] = {}

    expired = DataExport.objects.filter(expires_at__lte=now, deleted_at__isnull=True).select_related(
        "data_key"
    )
    counts["exports_deleted"] = sum(int(destroy_export(export)) for export in expired)

    counts["unverified_requests_closed"] = close_unverifiable_requests(now)

    record_cutoff = now - timedelta(days=settings.COMPLIANCE_DSAR_RECORD_RETENTION_DAYS)
    counts["closed_requests_deleted"], _ = DataSubjectRequest.objects.filter(
        status__in=[DsarStatus.COMPLETED, DsarStatus.DENIED], closed_at__lt=record_cutoff
    ).delete()

    counts["consent_records_minimised"] = minimise_consent_evidence(now)
    counts["mail_files_deleted"] = delete_old_mail_files(now.timestamp())

    counts["audit_events_pruned"] = prune_events(
        now - timedelta(days=settings.COMPLIANCE_AUDIT_RETENTION_DAYS)
    )

    # A verified request whose task was lost (broker restart) is queued again.
    from compliance import tasks

    stuck = DataSubjectRequest.objects.filter(
        status=DsarStatus.VERIFIED,
        request_type__in=list(AUTOMATIC_DSAR_TYPES),
        verified_at__lt=now - timedelta(hours=1),
        duplicate_of__isnull=True,
        hold="",  # a held request waits for its account holder or staff, not for a worker
    ).values_list("id", flat=True)
    counts["requests_requeued"] = 0
    for request_id in stuck:
        tasks.fulfil_request.delay(str(request_id))
        counts["requests_requeued"] += 1

    open_requests = DataSubjectRequest.objects.exclude(status__in=[DsarStatus.COMPLETED, DsarStatus.DENIED])
    overdue = list(open_requests.filter(due_at__lt=now).exclude(status=DsarStatus.UNVERIFIED))
    due_soon = list(
        open_requests.filter(due_at__gte=now, due_at__lt=now + timedelta(days=7)).exclude(
            status=DsarStatus.UNVERIFIED
        )
    )
    breaches = breaches_needing_notice(now)
    counts["overdue_requests"] = len(overdue)
    counts["breaches_awaiting_notice"] = len(breaches)
    if overdue or due_soon or breaches:
        send_email(
            "dsar-staff-digest",
            [settings.PROPORTRAIT_PRIVACY_EMAIL],
            {"overdue": overdue, "due_soon": due_soon, "breaches": breaches, "now": now},
        )
    record_event("compliance.housekeeping", data={k: v for k, v in counts.items() if isinstance(v, int)})
    return counts


UNVERIFIABLE_REASON = (
    "We could not verify that this request came from you: the code we emailed was not entered in time, "
    "so we could not act on it. You may make a new request at any time."
)


def close_unverifiable_requests(now: datetime) -> int:
    """Requests never verified are closed as unverifiable, and the requester is told so
    (CCPA 11 CCR 7060-7062), instead of disappearing. The closed record is minimised (no contact,
    no text) and kept for COMPLIANCE_DSAR_RECORD_RETENTION_DAYS (24 months, 11 CCR 7101)."""
    from compliance.services.dsar import DsarError, _close

    cutoff = now - timedelta(days=settings.COMPLIANCE_DSAR_UNVERIFIED_RETENTION_DAYS)
    closed = 0
    for request in DataSubjectRequest.objects.filter(status=DsarStatus.UNVERIFIED, received_at__lt=cutoff):
        try:
            _close(request, DsarStatus.DENIED, actor="system", denial_reason=UNVERIFIABLE_REASON)
        except DsarError:
            continue  # verified meanwhile
        closed += 1
    return closed
