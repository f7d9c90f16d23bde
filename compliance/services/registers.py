"""Registers an auditor asks for: sub-processors (Art. 28), processing (Art. 30), breaches (Arts. 33-34)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from compliance.audit import record_event
from compliance.models import (
    ProcessingActivity,
    ProcessingActivityVersion,
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
    """The activities in force (retired ones stay in the history, not in the record)."""
    return [
        {
            **{field: str(getattr(activity, field)) for field, _ in ROPA_FIELDS},
            "version": str(activity.version),
            "updated_at": f"{activity.updated_at:%Y-%m-%d}",
        }
        for activity in ProcessingActivity.objects.filter(retired_at__isnull=True).order_by("name")
    ]


def _activity_values(activity: ProcessingActivity) -> dict[str, str]:
    return {field: str(getattr(activity, field)) for field, _ in ROPA_FIELDS}


def save_processing_activity(
    activity: ProcessingActivity | None, *, values: dict[str, str], actor: str, reason: str
) -> ProcessingActivity:
    """Create or change one Art. 30 record. The new text becomes a new version; every earlier
    version stays in ProcessingActivityVersion, and an audit event names the fields changed."""
    if not reason.strip():
        raise ValueError("Say why the record of processing changes.")
    unknown = set(values) - {field for field, _ in ROPA_FIELDS}
    if unknown:
        raise ValueError(f"unknown fields: {sorted(unknown)}")
    with transaction.atomic():
        if activity is None:
            activity = ProcessingActivity(**values)
            changed = sorted(values)
            activity.version = 1
        else:
            activity = ProcessingActivity.objects.select_for_update().get(pk=activity.pk)
            changed = sorted(name for name, value in values.items() if str(getattr(activity, name)) != value)
            if not changed:
                return activity
            for name in changed:
                setattr(activity, name, values[name])
            activity.version += 1
        activity.save()
        ProcessingActivityVersion.objects.create(
            activity=activity,
            version=activity.version,
            values=_activity_values(activity),
            changed_at=timezone.now(),
            changed_by=actor,
            reason=reason.strip(),
        )
        record_event(
            "ropa.changed",
            actor=actor,
            object_type="processing_activity",
            object_id=str(activity.pk),
            data={"version": activity.version, "fields": changed},
        )
    return activity


def retire_processing_activity(activity: ProcessingActivity, *, actor: str, reason: str) -> None:
    """An activity we no longer carry out leaves the record; its versions stay."""
    if not reason.strip():
        raise ValueError("Say why the activity is retired.")
    with transaction.atomic():
        ProcessingActivity.objects.filter(pk=activity.pk).update(retired_at=timezone.now())
        record_event(
            "ropa.retired",
            actor=actor,
            object_type="processing_activity",
            object_id=str(activity.pk),
            data={"version": activity.version},
        )


def ropa_csv() -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([label for _, label in ROPA_FIELDS])
    for row in ropa_rows():
        writer.writerow([row[field] for field, _ in ROPA_FIELDS])
    return buffer.getvalue()


# --- Breach register: compliance.services.breaches (re-exported here for older callers).
from compliance.services.breaches import (  # noqa: E402
    breaches_needing_notice,
    notify_breach_organisations,
    report_breach,
)

__all__ = [
    "ADMIN_ROLES",
    "ROPA_FIELDS",
    "breaches_needing_notice",
    "current_register_version",
    "notify_breach_organisations",
    "organisation_admin_emails",
    "publish_subprocessor_register",
    "record_objection",
    "report_breach",
    "retire_processing_activity",
    "ropa_csv",
    "ropa_rows",
    "save_processing_activity",
    "subprocessor_entries",
]
