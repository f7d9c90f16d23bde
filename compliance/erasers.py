"""What compliance itself holds about a subject: its eraser and exporter (registered in apps.py)."""

from __future__ import annotations

from django.db.models import Q

from compliance.models import (
    ConsentAction,
    ConsentRecord,
    ConsentSubjectType,
    DataExport,
    DataSubjectRequest,
    DpaAcceptance,
    DsarStatus,
    SubprocessorObjection,
)
from compliance.services.consent import consent_history
from compliance.services.dsar import email_digest
from compliance.services.erasure import ErasureReport, ErasureScope, Subject
from compliance.services.exports import ExportPart, destroy_export


def _consent_condition(subject: Subject) -> Q:
    condition = Q(pk__in=[])
    for job_id in subject.job_ids:
        condition |= Q(job_id=job_id)
    if subject.user_id is not None:
        # Member records carry the membership id as subject_id, so they are found by user only.
        condition |= Q(user_id=subject.user_id) | Q(
            subject_type=ConsentSubjectType.USER, subject_id=str(subject.user_id)
        )
    return condition


def erase_compliance_data(subject: Subject) -> ErasureReport:
    """Consent records, request contacts, export files and DPA signatories of the subject.

    A consent withdrawal (biometric scope) keeps the consent records: they prove both the
    consent and its withdrawal, and hold no photo.
    """
    if subject.scope == ErasureScope.BIOMETRIC:
        return ErasureReport(
            "compliance", {}, notes="Consent records kept as proof of consent and withdrawal."
        )
    categories: dict[str, int] = {}
    records = ConsentRecord.objects.filter(_consent_condition(subject))
    # Withdrawals point at what they withdraw (PROTECT), so they go first.
    withdrawn, _ = records.filter(action=ConsentAction.WITHDRAWN).delete()
    given, _ = ConsentRecord.objects.filter(_consent_condition(subject)).delete()
    categories["consent_records"] = withdrawn + given

    requests = DataSubjectRequest.objects.none()
    if subject.email:
        requests = DataSubjectRequest.objects.filter(email_sha256=email_digest(subject.email))
    exports = DataExport.objects.filter(request__in=requests, deleted_at__isnull=True).select_related(
        "data_key"
    )
    categories["export_files"] = sum(int(destroy_export(export)) for export in exports)
    # Open requests keep their contact until they close (then forget_contact clears it): an
    # access request still in progress must be able to deliver its answer.
    categories["request_contacts"] = (
        requests.filter(status__in=[DsarStatus.COMPLETED, DsarStatus.DENIED])
        .exclude(email="")
        .update(email="", details="", proven_job_id="", matched_subject={})
    )

    if subject.user_id is not None:
        categories["dpa_signatures"] = DpaAcceptance.objects.filter(accepted_by_id=subject.user_id).update(
            accepted_by=None
        )
        SubprocessorObjection.objects.filter(raised_by_id=subject.user_id).update(raised_by=None)
    if subject.organisation_id is not None:
        categories["dpa_acceptances"], _ = DpaAcceptance.objects.filter(
            organisation_id=subject.organisation_id
        ).delete()
    return ErasureReport("compliance", categories, systems=("database", "object storage"))


def export_compliance_data(subject: Subject) -> ExportPart:
    """Consent history (with the texts shown) and the subject's data rights requests."""
    history = consent_history(job_ids=subject.job_ids, user_id=subject.user_id)
    requests = []
    if subject.email:
        for request in DataSubjectRequest.objects.filter(email_sha256=email_digest(subject.email)).order_by(
            "received_at"
        ):
            requests.append(
                {
                    "reference": request.reference,
                    "type": request.request_type,
                    "status": request.status,
                    "received_at": request.received_at.isoformat(),
                    "due_at": request.due_at.isoformat(),
                    "closed_at": request.closed_at.isoformat() if request.closed_at else None,
                }
            )
    return ExportPart({"consent_history": history, "data_rights_requests": requests})
