"""Registers an auditor asks for: sub-processors (Art. 28), processing (Art. 30), breaches (Arts. 33-34)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from typing import Any

from django.apps import apps
from django.db import transaction
from django.utils import timezone

from compliance.audit import record_event
from compliance.models import (
    ProcessingActivity,
    ProcessingActivityVersion,
    SubProcessor,
    SubprocessorRegisterVersion,
)

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
            "receives_photos": p.receives_photos,
            "since": p.since.isoformat(),
        }
        for p in SubProcessor.objects.filter(until__isnull=True).order_by("name")
    ]


def current_register_version() -> SubprocessorRegisterVersion | None:
    return SubprocessorRegisterVersion.objects.order_by("-version").first()


def publish_subprocessor_register(*, change_summary: str, actor: str) -> SubprocessorRegisterVersion:
    """Snapshot the register as it now stands as a new version (public page, DPAs).

    Called when a scheduled change takes effect (compliance.services.subprocessors): the notice
    and the objection period came before, so the objection deadline is the publication time.
    """
    if not change_summary.strip():
        raise ValueError("Describe the change; organisations receive this summary.")
    entries = subprocessor_entries()
    now = timezone.now()
    with transaction.atomic():
        latest = current_register_version()
        version = SubprocessorRegisterVersion.objects.create(
            version=(latest.version + 1) if latest else 1,
            published_at=now,
            change_summary=change_summary.strip(),
            entries=entries,
            sha256=hashlib.sha256(json.dumps(entries, sort_keys=True).encode()).hexdigest(),
            objection_deadline=now,
        )
        record_event(
            "subprocessors.published",
            actor=actor,
            object_type="subprocessor_register",
            object_id=str(version.version),
            data={"sha256": version.sha256},
        )
    return version


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
from compliance.services.subprocessors import record_objection  # noqa: E402

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
