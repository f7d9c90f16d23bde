"""The breach register (GDPR Arts. 33-34; US state breach laws that cover biometric data).

Every write goes through these functions, from the admin as from anywhere else: each one keeps
the previous state as a BreachIncidentVersion and writes an audit event. Notification times are
recorded with the time they were recorded; a time in the past needs a reason and is shown as
back-dated, so a missed deadline can never quietly turn into a met one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from compliance.audit import record_event
from compliance.models import (
    BACKDATE_TOLERANCE,
    BreachCommunication,
    BreachIncident,
    BreachIncidentVersion,
    BreachOrganisation,
)
from proportrait.emails import send_email


class BreachError(ValueError):
    """A change the register refuses; the message says why."""


@dataclass(frozen=True)
class NotificationDeadline:
    """One legal clock that a breach of biometric data can start."""

    key: str
    jurisdiction: str
    notify: str
    hours: int | None  # None: "without unreasonable delay", no fixed number
    rule: str
    citation: str


#: Deadlines that apply to a breach of biometric data in our markets. Where the law sets no
#: number, the clock shows "without unreasonable delay" and the internal target (hours=None).
DEADLINES: tuple[NotificationDeadline, ...] = (
    NotificationDeadline(
        "gdpr", "EU / EEA", "Supervisory authority", 72, "72 hours after becoming aware", "GDPR Art. 33(1)"
    ),
    NotificationDeadline(
        "uk_gdpr", "United Kingdom", "ICO", 72, "72 hours after becoming aware", "UK GDPR Art. 33(1)"
    ),
    NotificationDeadline(
        "gdpr_subjects",
        "EU / EEA / UK",
        "People affected (high risk)",
        None,
        "without undue delay",
        "GDPR Art. 34(1)",
    ),
    NotificationDeadline(
        "illinois",
        "Illinois",
        "Residents affected; Attorney General if more than 500",
        None,
        "most expedient time possible, without unreasonable delay",
        "815 ILCS 530/10, 530/12",
    ),
    NotificationDeadline(
        "texas",
        "Texas",
        "Residents affected",
        24 * 60,
        "60 days after determining the breach",
        "Tex. Bus. & Com. Code 521.053(b)",
    ),
    NotificationDeadline(
        "texas_ag",
        "Texas",
        "Attorney General (250 or more residents)",
        24 * 30,
        "30 days after determining the breach",
        "Tex. Bus. & Com. Code 521.053(i)",
    ),
    NotificationDeadline(
        "washington",
        "Washington",
        "Residents affected; Attorney General if more than 500",
        24 * 30,
        "30 days after discovery",
        "RCW 19.255.010",
    ),
    NotificationDeadline(
        "colorado",
        "Colorado",
        "Residents affected; Attorney General if 500 or more",
        24 * 30,
        "30 days after determining the breach",
        "C.R.S. 6-1-716(2)",
    ),
    NotificationDeadline(
        "california",
        "California",
        "Residents affected; Attorney General if more than 500",
        None,
        "most expedient time possible, without unreasonable delay",
        "Cal. Civ. Code 1798.82(a), (f)",
    ),
)
DEADLINES_BY_KEY = {deadline.key: deadline for deadline in DEADLINES}
DEFAULT_JURISDICTIONS = ("gdpr", "uk_gdpr")


@dataclass(frozen=True)
class Clock:
    deadline: NotificationDeadline
    due_at: datetime | None
    state: str  # "met", "met (back-dated)", "missed", "passed", "running", "no fixed deadline"
    hours_left: float | None


def clocks(incident: BreachIncident, now: datetime | None = None) -> list[Clock]:
    """One clock per applicable deadline, for the staff dashboard."""
    now = now or timezone.now()
    result = []
    for key in incident.jurisdictions or DEFAULT_JURISDICTIONS:
        deadline = DEADLINES_BY_KEY.get(key)
        if deadline is None:
            continue
        due = incident.detected_at + timedelta(hours=deadline.hours) if deadline.hours else None
        authority = key in {"gdpr", "uk_gdpr", "texas_ag"}
        done_at = incident.authority_notified_at if authority else incident.subjects_notified_at
        if done_at is not None:
            state = "met" if due is None or done_at <= due else "missed"
            if authority and state == "met" and incident.authority_notice_backdated:
                state = "met (back-dated)"
        elif due is None:
            state = "no fixed deadline"
        else:
            state = "passed" if now > due else "running"
        hours_left = (due - now).total_seconds() / 3600 if due and done_at is None else None
        result.append(Clock(deadline, due, state, hours_left))
    return result


# --- Writes.

SNAPSHOT_FIELDS = (
    "title",
    "description",
    "detected_at",
    "status",
    "nature",
    "subject_categories",
    "affected_subjects_count",
    "record_categories",
    "affected_records_count",
    "likely_consequences",
    "measures_taken",
    "measures_proposed",
    "jurisdictions",
    "authority_notified_at",
    "authority_notice_recorded_at",
    "authority_notice_backdate_reason",
    "subjects_notified_at",
    "subjects_notified_count",
)
#: What update_breach may change; notification times have their own functions.
EDITABLE_FIELDS = frozenset(SNAPSHOT_FIELDS) - {
    "authority_notified_at",
    "authority_notice_recorded_at",
    "authority_notice_backdate_reason",
    "subjects_notified_at",
    "subjects_notified_count",
}


def _snapshot(incident: BreachIncident) -> dict[str, Any]:
    values = {}
    for name in SNAPSHOT_FIELDS:
        value = getattr(incident, name)
        values[name] = value.isoformat() if isinstance(value, datetime) else value
    return values


def _keep_version(incident: BreachIncident, *, actor: str, reason: str) -> None:
    BreachIncidentVersion.objects.create(
        incident=incident,
        version=incident.version,
        values=_snapshot(incident),
        changed_at=timezone.now(),
        changed_by=actor,
        reason=reason,
    )


def report_breach(
    *,
    title: str,
    description: str,
    detected_at: datetime,
    actor: str,
    affected: dict[Any, int] | None = None,
    affected_subjects_count: int = 0,
    **details: Any,
) -> BreachIncident:
    """Open an incident; the clocks start at `detected_at` (72 hours for Art. 33(1)).

    `details` takes the other Art. 33(3) fields (nature, subject_categories, record_categories,
    affected_records_count, likely_consequences, measures_taken, measures_proposed, jurisdictions).
    """
    unknown = set(details) - EDITABLE_FIELDS
    if unknown:
        raise BreachError(f"unknown breach fields: {sorted(unknown)}")
    if detected_at > timezone.now() + timedelta(minutes=1):
        raise BreachError("A breach cannot be detected in the future.")
    _check_jurisdictions(details.get("jurisdictions"))
    with transaction.atomic():
        incident = BreachIncident.objects.create(
            title=title,
            description=description,
            detected_at=detected_at,
            affected_subjects_count=affected_subjects_count,
            jurisdictions=list(details.pop("jurisdictions", None) or DEFAULT_JURISDICTIONS),
            **details,
        )
        for organisation, count in (affected or {}).items():
            BreachOrganisation.objects.create(
                incident=incident, organisation=organisation, affected_subjects_count=count
            )
        _keep_version(incident, actor=actor, reason="reported")
        record_event(
            "breach.reported",
            actor=actor,
            object_type="breach",
            object_id=str(incident.pk),
            data={
                "organisations": len(affected or {}),
                "subjects": affected_subjects_count,
                "detected_at": detected_at.isoformat(),
            },
        )
    return incident


def _check_jurisdictions(keys: Any) -> None:
    if keys is None:
        return
    unknown = [key for key in keys if key not in DEADLINES_BY_KEY]
    if unknown:
        raise BreachError(f"unknown jurisdictions: {unknown}; use {sorted(DEADLINES_BY_KEY)}")


def update_breach(incident: BreachIncident, *, actor: str, reason: str, **changes: Any) -> BreachIncident:
    """Change what we know about a breach. The old state stays as a version; `reason` is required.

    Moving `detected_at` moves every clock, so it is flagged in the audit event.
    """
    if not reason.strip():
        raise BreachError("Say why the breach record changes.")
    refused = set(changes) - EDITABLE_FIELDS
    if refused:
        raise BreachError(f"these fields change through their own action, not an edit: {sorted(refused)}")
    _check_jurisdictions(changes.get("jurisdictions"))
    with transaction.atomic():
        locked = BreachIncident.objects.select_for_update().get(pk=incident.pk)
        changed = sorted(name for name, value in changes.items() if getattr(locked, name) != value)
        if not changed:
            return locked
        for name in changed:
            setattr(locked, name, changes[name])
        locked.version += 1
        locked.save()
        _keep_version(locked, actor=actor, reason=reason.strip())
        record_event(
            "breach.updated",
            actor=actor,
            object_type="breach",
            object_id=str(locked.pk),
            data={"version": locked.version, "fields": changed, "clock_moved": "detected_at" in changed},
        )
    return locked


def record_authority_notification(
    incident: BreachIncident, *, actor: str, notified_at: datetime | None = None, reason: str = ""
) -> BreachIncident:
    """The supervisory authority was notified (Art. 33(1)), now or at `notified_at`.

    A time more than BACKDATE_TOLERANCE in the past is back-dated: it needs a reason, the record
    keeps when it was entered, and the clock shows "met (back-dated)" or "missed".
    """
    now = timezone.now()
    notified_at = notified_at or now
    if notified_at > now + timedelta(minutes=1):
        raise BreachError("A notification cannot be recorded in the future.")
    backdated = now - notified_at > BACKDATE_TOLERANCE
    if backdated and not reason.strip():
        raise BreachError("A notification time in the past needs a reason (it is recorded as back-dated).")
    with transaction.atomic():
        locked = BreachIncident.objects.select_for_update().get(pk=incident.pk)
        if locked.authority_notified_at is not None:
            raise BreachError("The authority notification is already recorded; correct it with a new entry.")
        locked.authority_notified_at = notified_at
        locked.authority_notice_recorded_at = now
        locked.authority_notice_backdate_reason = reason.strip() if backdated else ""
        locked.version += 1
        locked.save()
        _keep_version(locked, actor=actor, reason=reason.strip() or "authority notified")
        record_event(
            "breach.authority_notified",
            actor=actor,
            object_type="breach",
            object_id=str(locked.pk),
            data={
                "notified_at": notified_at.isoformat(),
                "recorded_at": now.isoformat(),
                "backdated": backdated,
                "deadline_met": notified_at <= locked.notification_deadline,
            },
        )
    return locked


def communicate_to_subjects(
    incident: BreachIncident, *, recipients: list[str], actor: str, template: str = "breach-communication"
) -> BreachCommunication:
    """Art. 34: tell the people affected, in plain language, through the mail path; record it.

    The message states the nature of the breach, the DPO contact, the likely consequences and
    the measures (Art. 34(2) with 33(3)(b)-(d)). Addresses are not stored, only how many.
    """
    recipients = sorted({address.strip().lower() for address in recipients if address.strip()})
    if not recipients:
        raise BreachError("Give at least one recipient.")
    now = timezone.now()
    with transaction.atomic():
        locked = BreachIncident.objects.select_for_update().get(pk=incident.pk)
        for address in recipients:
            send_email(template, [address], breach_mail_context(locked))
        communication = BreachCommunication.objects.create(
            incident=locked, template=template, recipients_count=len(recipients), sent_at=now, sent_by=actor
        )
        if locked.subjects_notified_at is None:
            locked.subjects_notified_at = now
        locked.subjects_notified_count += len(recipients)
        locked.version += 1
        locked.save()
        _keep_version(locked, actor=actor, reason="people affected told (Art. 34)")
        record_event(
            "breach.subjects_notified",
            actor=actor,
            object_type="breach",
            object_id=str(locked.pk),
            data={"recipients": len(recipients), "template": template},
        )
    return communication


def breach_mail_context(incident: BreachIncident) -> dict[str, Any]:
    return {
        "incident": incident,
        "dpo_name": settings.PROPORTRAIT_DPO_NAME,
        "dpo_email": settings.PROPORTRAIT_DPO_EMAIL,
        "privacy_email": settings.PROPORTRAIT_PRIVACY_EMAIL,
        "company": settings.PROPORTRAIT_COMPANY_NAME,
    }


def add_affected_organisation(
    incident: BreachIncident, *, organisation: Any, affected_subjects_count: int, actor: str
) -> BreachOrganisation:
    """An organisation (controller) whose people are affected; it is told by notify_breach_organisations."""
    with transaction.atomic():
        row, created = BreachOrganisation.objects.get_or_create(
            incident=incident,
            organisation=organisation,
            defaults={"affected_subjects_count": affected_subjects_count},
        )
        if not created and row.affected_subjects_count != affected_subjects_count:
            row.affected_subjects_count = affected_subjects_count
            row.save(update_fields=["affected_subjects_count"])
        record_event(
            "breach.organisation_affected",
            actor=actor,
            object_type="breach",
            object_id=str(incident.pk),
            data={"organisation_id": organisation.pk, "subjects": affected_subjects_count},
        )
    return row


def notify_breach_organisations(incident: BreachIncident, *, actor: str) -> int:
    """Tell every affected organisation not yet told (processor to controller, Art. 33(2))."""
    from compliance.services.registers import organisation_admin_emails

    notified = 0
    with transaction.atomic():
        for row in incident.affected.select_related("organisation").filter(notified_at__isnull=True):
            recipients = organisation_admin_emails(row.organisation)
            send_email(
                "breach-notification",
                recipients or [settings.PROPORTRAIT_PRIVACY_EMAIL],
                {
                    **breach_mail_context(incident),
                    "organisation": row.organisation,
                    "affected_subjects_count": row.affected_subjects_count,
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
