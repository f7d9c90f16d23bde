"""Sub-processor changes with notice (GDPR Art. 28(2),(4); our DPA clause (d)).

A change is scheduled with an effective date at least COMPLIANCE_SUBPROCESSOR_NOTICE_DAYS ahead;
every organisation's owners and admins are told when it is scheduled and may object until it
takes effect; on its date apply_due_changes() writes it into the register, publishes a register
version, and, if it changes who receives photos, a new biometric notice version (so the next
upload needs fresh consent). Nothing reaches the public page or any DPA before its date.

To add a sub-processor from code (a data migration, a new integration), call
schedule_subprocessor_change(action="add", values={...}) like the admin does.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from compliance.audit import record_event
from compliance.models import (
    SubProcessor,
    SubprocessorChange,
    SubprocessorChangeAction,
    SubprocessorChangeNotice,
    SubprocessorChangeStatus,
    SubprocessorObjection,
)
from proportrait.emails import send_email

FIELDS = (
    "name",
    "purpose",
    "location",
    "transfer_safeguard",
    "data_categories",
    "privacy_contact_email",
    "receives_photos",
)


class SubprocessorChangeError(ValueError):
    """The change cannot be scheduled as asked; the message says why."""


def earliest_effective_at(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + timedelta(days=settings.COMPLIANCE_SUBPROCESSOR_NOTICE_DAYS)


def pending_changes() -> list[SubprocessorChange]:
    return list(
        SubprocessorChange.objects.filter(status=SubprocessorChangeStatus.SCHEDULED)
        .select_related("subprocessor")
        .order_by("effective_at")
    )


def schedule_subprocessor_change(
    *,
    action: str,
    change_summary: str,
    actor: str,
    effective_at: datetime | None = None,
    subprocessor: SubProcessor | None = None,
    values: dict[str, Any] | None = None,
) -> SubprocessorChange:
    """Announce a change now; it takes effect at `effective_at` (default: the notice period ahead).

    Raises SubprocessorChangeError if the date is inside the notice period, the summary is empty,
    or the action does not fit (an update or retirement names an active sub-processor; an
    addition gives name, purpose, location and transfer safeguard).
    """
    now = timezone.now()
    effective_at = effective_at or earliest_effective_at(now)
    values = {key: value for key, value in (values or {}).items() if key in FIELDS}
    # 1. Checks that store nothing.
    if not change_summary.strip():
        raise SubprocessorChangeError("Describe the change; organisations receive this summary.")
    if effective_at < earliest_effective_at(now) - timedelta(minutes=1):
        raise SubprocessorChangeError(
            f"A change takes effect at least {settings.COMPLIANCE_SUBPROCESSOR_NOTICE_DAYS} days after "
            f"notice: the earliest date is {earliest_effective_at(now):%Y-%m-%d}."
        )
    if action == SubprocessorChangeAction.ADD:
        missing = [f for f in ("name", "purpose", "location", "transfer_safeguard") if not values.get(f)]
        if missing:
            raise SubprocessorChangeError(f"A new sub-processor needs: {', '.join(missing)}.")
    elif action in (SubprocessorChangeAction.UPDATE, SubprocessorChangeAction.RETIRE):
        if subprocessor is None or subprocessor.until is not None:
            raise SubprocessorChangeError("Choose a sub-processor we use today.")
    else:
        raise SubprocessorChangeError(f"Unknown action {action!r}.")
    # 2. The change and one notice per organisation, in one transaction; mails after commit.
    organisation_model = apps.get_model("accounts", "Organisation")
    from compliance.services.registers import organisation_admin_emails

    with transaction.atomic():
        change = SubprocessorChange.objects.create(
            action=action,
            subprocessor=subprocessor,
            values=values,
            change_summary=change_summary.strip(),
            scheduled_at=now,
            scheduled_by=actor,
            effective_at=effective_at,
        )
        organisations = 0
        for organisation in organisation_model.objects.all():
            recipients = organisation_admin_emails(organisation)
            SubprocessorChangeNotice.objects.create(
                change=change, organisation=organisation, recipients_count=len(recipients), sent_at=now
            )
            if recipients:
                send_email(
                    "subprocessor-change-scheduled",
                    recipients,
                    {
                        "organisation": organisation,
                        "change": change,
                        "name": values.get("name") or (subprocessor.name if subprocessor else ""),
                        "register_url": settings.SITE_URL + reverse("compliance:subprocessors"),
                        "privacy_email": settings.PROPORTRAIT_PRIVACY_EMAIL,
                    },
                )
            organisations += 1
        record_event(
            "subprocessors.change_scheduled",
            actor=actor,
            object_type="subprocessor_change",
            object_id=str(change.pk),
            data={
                "action": action,
                "effective_at": effective_at.isoformat(),
                "organisations_notified": organisations,
                "receives_photos": bool(values.get("receives_photos")),
            },
        )
    return change


def cancel_subprocessor_change(change: SubprocessorChange, *, actor: str, reason: str) -> None:
    """Withdraw a scheduled change (after an objection, say); the record stays."""
    if not reason.strip():
        raise SubprocessorChangeError("Say why the change is cancelled.")
    with transaction.atomic():
        updated = SubprocessorChange.objects.filter(
            pk=change.pk, status=SubprocessorChangeStatus.SCHEDULED
        ).update(status=SubprocessorChangeStatus.CANCELLED, cancelled_reason=reason.strip())
        if updated != 1:
            raise SubprocessorChangeError("Only a scheduled change can be cancelled.")
        record_event(
            "subprocessors.change_cancelled",
            actor=actor,
            object_type="subprocessor_change",
            object_id=str(change.pk),
            data={},
        )


def _photo_recipients() -> list[tuple[str, str]]:
    return sorted(
        SubProcessor.objects.filter(until__isnull=True, receives_photos=True).values_list("name", "location")
    )


def apply_due_changes(now: datetime | None = None) -> int:
    """Put every scheduled change whose date has come into the register (the scheduler calls this)."""
    from compliance.services.notices import sync_biometric_notice
    from compliance.services.registers import publish_subprocessor_register

    now = now or timezone.now()
    applied = 0
    for change in SubprocessorChange.objects.filter(
        status=SubprocessorChangeStatus.SCHEDULED, effective_at__lte=now
    ).order_by("effective_at"):
        with transaction.atomic():
            claimed = SubprocessorChange.objects.filter(
                pk=change.pk, status=SubprocessorChangeStatus.SCHEDULED
            ).update(status=SubprocessorChangeStatus.APPLIED, applied_at=now)
            if claimed != 1:
                continue  # another worker applied it
            recipients_before = _photo_recipients()
            if change.action == SubprocessorChangeAction.ADD:
                SubProcessor.objects.create(**change.values, since=now.date())
            elif change.subprocessor_id is None:
                raise SubprocessorChangeError(f"change {change.pk} names no sub-processor")
            elif change.action == SubprocessorChangeAction.UPDATE:
                SubProcessor.objects.filter(pk=change.subprocessor_id).update(**change.values)
            else:
                SubProcessor.objects.filter(pk=change.subprocessor_id).update(until=now.date())
            version = publish_subprocessor_register(change_summary=change.change_summary, actor="system")
            SubprocessorChange.objects.filter(pk=change.pk).update(register_version=version)
            record_event(
                "subprocessors.change_applied",
                object_type="subprocessor_change",
                object_id=str(change.pk),
                data={"register_version": version.version},
            )
            if _photo_recipients() != recipients_before:
                sync_biometric_notice(actor="system")
        applied += 1
    return applied


def record_objection(*, organisation: Any, user: Any, reason: str) -> SubprocessorObjection:
    """An organisation objects (Art. 28(2)): to the next scheduled change if there is one, else to
    the register as it stands."""
    from compliance.services.registers import current_register_version

    if not reason.strip():
        raise ValueError("Say what you object to.")
    pending = pending_changes()
    change = pending[0] if pending else None
    version = None if change else current_register_version()
    if change is None and version is None:
        raise ValueError("No register version has been published yet.")
    with transaction.atomic():
        objection = SubprocessorObjection.objects.create(
            register_version=version,
            change=change,
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
            data={
                "register_version": version.version if version else None,
                "change": change.pk if change else None,
            },
        )
    return objection
