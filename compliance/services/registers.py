"""Registers an auditor asks for: sub-processors (Art. 28), processing (Art. 30), breaches (Arts. 33-34)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from compliance.audit import record_event
from compliance.models import (
    BreachIncident,
    BreachOrganisation,
    ProcessingActivity,
    SubProcessor,
    SubprocessorChangeNotice,
    SubprocessorObjection,
    SubprocessorRegisterVersion,
)
from proportrait.emails import send_email

ADMIN_ROLES = ("owner", "admin")


def organisation_admin_emails(organisation: Any) -> list[str]:
    """Emails of an organisation's owners and admins (the people a processor must tell)."""
    membership = apps.get_model("accounts", "Membership")
    return sorted(
        set(
            membership.objects.filter(organisation=organisation, role__in=ADMIN_ROLES)
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )


# --- Sub-processors.


def subprocessor_entries() -> list[dict[str, Any]]:
    return [
        {
            "name": p.name,
            "purpose": p.purpose,
            "location": p.location,
            "transfer_safeguard": p.transfer_safeguard,
            "data_categories": p.data_categories,
            "since": p.since.isoformat(),
        }
        for p in SubProcessor.objects.filter(until__isnull=True).order_by("name")
    ]


def current_register_version() -> SubprocessorRegisterVersion | None:
    return SubprocessorRegisterVersion.objects.order_by("-version").first()


def publish_subprocessor_register(*, change_summary: str, actor: str) -> SubprocessorRegisterVersion:
    """Snapshot the register as a new version and notify every organisation's admins.

    Organisations may object until the deadline (COMPLIANCE_SUBPROCESSOR_NOTICE_DAYS), as
    GDPR Art. 28(2) and (4) and our DPA clause (d) promise.
    """
    if not change_summary.strip():
        raise ValueError("Describe the change; organisations receive this summary.")
    entries = subprocessor_entries()
    now = timezone.now()
    organisation_model = apps.get_model("accounts", "Organisation")
    with transaction.atomic():
        latest = current_register_version()
        version = SubprocessorRegisterVersion.objects.create(
            version=(latest.version + 1) if latest else 1,
            published_at=now,
            change_summary=change_summary.strip(),
            entries=entries,
            sha256=hashlib.sha256(json.dumps(entries, sort_keys=True).encode()).hexdigest(),
            objection_deadline=now + timedelta(days=settings.COMPLIANCE_SUBPROCESSOR_NOTICE_DAYS),
        )
        notified = 0
        for organisation in organisation_model.objects.all():
            recipients = organisation_admin_emails(organisation)
            SubprocessorChangeNotice.objects.create(
                register_version=version,
                organisation=organisation,
                recipients_count=len(recipients),
                sent_at=now,
            )
            if recipients:
                send_email(
                    "subprocessor-change-notice",
                    recipients,
                    {
                        "organisation": organisation,
                        "version": version,
                        "entries": entries,
                        "register_url": settings.SITE_URL + reverse("compliance:subprocessors"),
                        "privacy_email": settings.PROPORTRAIT_PRIVACY_EMAIL,
                    },
                )
            notified += 1
        record_event(
            "subprocessors.published",
            actor=actor,
            object_type="subprocessor_register",
            object_id=str(version.version),
            data={"sha256": version.sha256, "organisations_notified": notified},
        )
    return version


def record_objection(*, organisation: Any, user: Any, reason: str) -> SubprocessorObjection:
    """An organisation objects to the current register version (Art. 28(2))."""
    version = current_register_version()
    if version is None:
        raise ValueError("No register version has been published yet.")
    if not reason.strip():
        raise ValueError("Say what you object to.")
    with transaction.atomic():
        objection = SubprocessorObjection.objects.create(
            register_version=version,
            organisation=organisation,
            raised_by=user,
            reason=reason.strip(),
            raised_at=timezone.now(),
        )
        record_event(
            "subprocessors.objection",
            actor=f"user:{user.pk}" if user else "system",
            object_type="organisation",
            object_id=str(organisation.pk),
            data={"register_version": version.version},
        )
    return objection


# --- Records of processing (Art. 30).

ROPA_FIELDS = [
    ("name", "Processing activity"),
    ("role", "Our role"),
    ("purpose", "Purpose"),
    ("legal_basis", "Legal basis"),
    ("data_subjects", "Data subjects"),
    ("data_categories", "Personal data categories"),
    ("recipients", "Recipients"),
    ("transfers", "Transfers outside the EEA/UK and safeguards"),
    ("retention", "Retention"),
    ("security_measures", "Security measures (Art. 32)"),
]


def ropa_rows() -> list[dict[str, str]]:
    return [
        {field: str(getattr(activity, field)) for field, _ in ROPA_FIELDS}
        for activity in ProcessingActivity.objects.order_by("name")
    ]


def ropa_csv() -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([label for _, label in ROPA_FIELDS])
    for row in ropa_rows():
        writer.writerow([row[field] for field, _ in ROPA_FIELDS])
    return buffer.getvalue()


# --- Breach register.


def report_breach(
    *,
    title: str,
    description: str,
    detected_at: datetime,
    actor: str,
    affected: dict[Any, int] | None = None,
    affected_subjects_count: int = 0,
) -> BreachIncident:
    """Open an incident; the 72-hour clock starts at `detected_at` (Art. 33(1))."""
    with transaction.atomic():
        incident = BreachIncident.objects.create(
            title=title,
            description=description,
            detected_at=detected_at,
            affected_subjects_count=affected_subjects_count,
        )
        for organisation, count in (affected or {}).items():
            BreachOrganisation.objects.create(
                incident=incident, organisation=organisation, affected_subjects_count=count
            )
        record_event(
            "breach.reported",
            actor=actor,
            object_type="breach",
            object_id=str(incident.pk),
            data={"organisations": len(affected or {}), "subjects": affected_subjects_count},
        )
    return incident


def notify_breach_organisations(incident: BreachIncident, *, actor: str) -> int:
    """Tell every affected organisation not yet told (processor to controller, Art. 33(2))."""
    notified = 0
    with transaction.atomic():
        for row in incident.affected.select_related("organisation").filter(notified_at__isnull=True):
            recipients = organisation_admin_emails(row.organisation)
            send_email(
                "breach-notification",
                recipients or [settings.PROPORTRAIT_PRIVACY_EMAIL],
                {
                    "incident": incident,
                    "organisation": row.organisation,
                    "affected_subjects_count": row.affected_subjects_count,
                    "privacy_email": settings.PROPORTRAIT_PRIVACY_EMAIL,
                },
            )
            row.notified_at = timezone.now()
            row.save(update_fields=["notified_at"])
            notified += 1
        record_event(
            "breach.organisations_notified",
            actor=actor,
            object_type="breach",
            object_id=str(incident.pk),
            data={"organisations": notified},
        )
    return notified


def breaches_needing_notice(now: datetime | None = None) -> list[BreachIncident]:
    """Incidents whose authority notice is still missing, soonest deadline first."""
    incidents = BreachIncident.objects.filter(authority_notified_at__isnull=True).order_by("detected_at")
    return list(incidents)
