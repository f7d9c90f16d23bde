"""Team services: organisations, invitations, the member journey, approvals, exports, API tokens.

The member is the data subject: they consent for themself, the employer never consents for
them, and no admin path leads to an original photo (originals are destroyed at job end anyway).
Member jobs follow the organisation's retention policy through their `expires_at`.
"""

from __future__ import annotations

import calendar
import csv
import hashlib
import io
import secrets
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import (
    Invitation,
    Membership,
    MemberStatus,
    Organisation,
    OrganisationApiToken,
    Role,
    SubmissionStatus,
    TeamSubmission,
    User,
)
from accounts.services import user_actor
from compliance.audit import record_event
from proportrait.addresses import normalise_email
from proportrait.emails import send_email


class TeamError(Exception):
    """A team action that cannot be done; the message says what to do instead."""


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def add_months(moment: datetime, months: int) -> datetime:
    """Same day `months` later, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


# --- Organisations


def create_organisation(*, owner: User, name: str, seats: int = 10) -> Organisation:
    """A new organisation with `owner` as its owner."""
    base = slugify(name)[:50].strip("-") or "team"
    with transaction.atomic():
        slug = base
        while Organisation.objects.filter(slug=slug).exists():
            slug = f"{base}-{secrets.token_hex(3)}"
        organisation = Organisation.objects.create(name=name.strip(), slug=slug, seats=seats)
        Membership.objects.create(user=owner, organisation=organisation, role=Role.OWNER)
        record_event(
            "organisation.created",
            actor=user_actor(owner),
            object_type="organisation",
            object_id=str(organisation.pk),
        )
    return organisation


def update_organisation(organisation: Organisation, *, actor: User, changed: list[str]) -> None:
    """Save settings changed through the form; a new retention policy applies to existing jobs too."""
    with transaction.atomic():
        organisation.save()
        record_event(
            "organisation.updated",
            actor=user_actor(actor),
            object_type="organisation",
            object_id=str(organisation.pk),
            data={"fields": sorted(changed)},
        )
    if {"approved_retention_months", "unapproved_retention_days"} & set(changed):
        enforce_retention(organisation)


def sole_owned_organisations(user: User) -> list[Organisation]:
    owned = Organisation.objects.filter(memberships__user=user, memberships__role=Role.OWNER)
    return [org for org in owned if org.memberships.filter(role=Role.OWNER).count() == 1]


def _check_mail_limit(kind: str, email: str, organisation: Organisation) -> None:
    """Invitations, re-sends and reminders share one limit per person and per organisation."""
    from accounts import security

    try:
        security.check_team_mail(kind, normalise_email(email) or email, organisation.pk)
    except security.MailLimited as limited:
        record_event(
            "team.mail_limited",
            actor="system",
            object_type="organisation",
            object_id=str(organisation.pk),
            data={"kind": kind},
        )
        raise TeamError(limited.message) from limited


def seats_used(organisation: Organisation, now: datetime | None = None) -> int:
    now = now or timezone.now()
    pending = organisation.invitations.filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    )
    return organisation.memberships.count() + pending.count()


# --- Invitations


def _invitation_link(raw_token: str) -> str:
    return settings.SITE_URL + reverse("accounts:invitation", args=[raw_token])


def _send_invitation(invitation: Invitation, raw_token: str) -> None:
    send_email(
        "team-invitation",
        [invitation.email],
        {
            "organisation": invitation.organisation.name,
            "link": _invitation_link(raw_token),
            "expires_at": invitation.expires_at,
        },
    )


def invite_member(
    organisation: Organisation,
    *,
    email: str,
    role: str = Role.MEMBER,
    invited_by: User | None,
    actor: str | None = None,
) -> Invitation:
    """Invite one person by email. Raises TeamError (taken, duplicate, no free seat) or ValidationError."""
    email = email.strip().lower()
    validate_email(email)
    if role not in {Role.ADMIN, Role.MEMBER}:
        raise TeamError("Invite people as a member or an admin.")
    now = timezone.now()
    with transaction.atomic():
        Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
        if organisation.memberships.filter(user__email_key=normalise_email(email)).exists():
            raise TeamError("This person is already a member.")
        if organisation.invitations.filter(
            email_key=normalise_email(email),
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=now,
        ).exists():
            raise TeamError("This person already has an open invitation; re-send it instead.")
        # Free mode: the organisation's seat setting; with payments on, the seats its team plan pays for.
        from accounts.billing import seat_limit, seat_limit_message

        if seats_used(organisation, now) >= seat_limit(organisation):
            raise TeamError(seat_limit_message(organisation))
        _check_mail_limit("invitation", email, organisation)
        raw = secrets.token_urlsafe(32)
        invitation = Invitation.objects.create(
            organisation=organisation,
            email=email,
            role=role,
            token_hash=hash_secret(raw),
            invited_by=invited_by,
            expires_at=now + timedelta(days=settings.ACCOUNTS_INVITATION_DAYS),
            last_sent_at=now,
        )
        record_event(
            "invitation.created",
            actor=actor or user_actor(invited_by),
            object_type="invitation",
            object_id=str(invitation.pk),
            data={"organisation": organisation.pk, "role": role},
        )
        _send_invitation(invitation, raw)
    return invitation


@dataclass(frozen=True)
class CsvRowReport:
    line: int
    email: str
    ok: bool
    message: str


def invite_from_csv(organisation: Organisation, *, text: str, invited_by: User) -> list[CsvRowReport]:
    """Invite every row of a CSV (column `email`, optional `role`); one report per row."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    fields = {name.strip().lower() for name in (reader.fieldnames or [])}
    if "email" not in fields:
        raise TeamError("The CSV needs a header row with an 'email' column (and optionally 'role').")
    reports: list[CsvRowReport] = []
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        row = {(key or "").strip().lower(): (value or "").strip() for key, value in row.items()}
        email = row.get("email", "").lower()
        role = (row.get("role") or Role.MEMBER).lower()
        if email in seen:
            reports.append(CsvRowReport(line, email, False, "Duplicate of an earlier row."))
            continue
        seen.add(email)
        try:
            invite_member(organisation, email=email, role=role, invited_by=invited_by)
        except ValidationError:
            reports.append(CsvRowReport(line, email, False, "Not a valid email address."))
        except TeamError as error:
            reports.append(CsvRowReport(line, email, False, str(error)))
        else:
            reports.append(CsvRowReport(line, email, True, "Invitation sent."))
    return reports


def resend_invitation(invitation: Invitation, *, actor: User) -> None:
    """A fresh link (the old one stops working) with a fresh expiry."""
    if invitation.accepted_at or invitation.revoked_at:
        raise TeamError("This invitation was already used or revoked.")
    _check_mail_limit("invitation", invitation.email, invitation.organisation)
    raw = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        invitation.token_hash = hash_secret(raw)
        invitation.expires_at = now + timedelta(days=settings.ACCOUNTS_INVITATION_DAYS)
        invitation.last_sent_at = now
        invitation.send_count += 1
        invitation.save(update_fields=["token_hash", "expires_at", "last_sent_at", "send_count"])
        record_event(
            "invitation.resent",
            actor=user_actor(actor),
            object_type="invitation",
            object_id=str(invitation.pk),
        )
        _send_invitation(invitation, raw)


def revoke_invitation(invitation: Invitation, *, actor: User) -> None:
    with transaction.atomic():
        Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        record_event(
            "invitation.revoked",
            actor=user_actor(actor),
            object_type="invitation",
            object_id=str(invitation.pk),
        )


def open_invitation(raw_token: str) -> Invitation | None:
    invitation = (
        Invitation.objects.select_related("organisation").filter(token_hash=hash_secret(raw_token)).first()
    )
    if invitation is None or not invitation.is_open(timezone.now()):
        return None
    return invitation


def accept_invitation(raw_token: str, user: User) -> Membership:
    """Join the organisation. Single use: a filtered update must change exactly one row.

    The invitation was sent to an address; the account accepting it must hold that address, so a
    forwarded link cannot put someone else's face into the organisation.
    """
    invitation = open_invitation(raw_token)
    if invitation is None:
        raise TeamError(
            "This invitation link has expired, was revoked or was already used. Ask your admin for a new one."
        )
    if not invitation.email_key or invitation.email_key != user.email_key:
        raise TeamError("This invitation was sent to a different email address. Log in with that address.")
    now = timezone.now()
    with transaction.atomic():
        changed = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
        ).update(accepted_at=now, accepted_by=user)
        if changed != 1:
            raise TeamError("This invitation was already used.")
        try:
            with transaction.atomic():
                membership = Membership.objects.create(
                    user=user, organisation=invitation.organisation, role=invitation.role
                )
        except IntegrityError:
            raise TeamError("You are already a member of this organisation.") from None
        if user.email_verified_at is None:
            # The link arrived at this address: that verifies it.
            User.objects.filter(pk=user.pk).update(email_verified_at=now)
        record_event(
            "invitation.accepted",
            actor=user_actor(user),
            object_type="invitation",
            object_id=str(invitation.pk),
            data={"membership": membership.pk},
        )
    return membership


# --- The member journey: consent, upload, favourite, submit


def _set_member_status(membership: Membership, status: str) -> None:
    Membership.objects.filter(pk=membership.pk).update(status=status, status_changed_at=timezone.now())
    membership.status = status


def member_consent(membership: Membership) -> Any:
    """The member's own current biometric consent record, if any (not withdrawn)."""
    from compliance.models import ConsentAction, ConsentRecord, ConsentSubjectType

    records = ConsentRecord.objects.filter(
        subject_type=ConsentSubjectType.MEMBER, subject_id=str(membership.pk)
    )
    latest = records.order_by("-recorded_at").first()
    if latest is None or latest.action != ConsentAction.GIVEN:
        return None
    return latest


def give_member_consent(membership: Membership, act: Any) -> Any:
    """Record the member's own explicit biometric consent. Raises compliance ConsentError."""
    from compliance.models import ConsentSubjectType
    from compliance.services import record_biometric_consent

    with transaction.atomic():
        record = record_biometric_consent(
            act, subject_type=ConsentSubjectType.MEMBER, subject_id=str(membership.pk), user=membership.user
        )
        if membership.status == MemberStatus.JOINED:
            _set_member_status(membership, MemberStatus.CONSENTED)
    return record


def start_member_job(membership: Membership, *, photo: bytes, client: Any) -> TeamSubmission:
    """Upload for the organisation: the brand style, the member as owner, the unapproved retention.

    The per-job consent record repeats the member's own recorded act (same signature, same
    notice version); if the notice changed since, ConsentError asks them to consent again.
    """
    from compliance.models import ConsentSubjectType
    from compliance.services import ConsentAct, ConsentError
    from portraits.services import create_job

    consent = member_consent(membership)
    if consent is None:
        raise ConsentError("Please give your consent first.")
    act = ConsentAct(
        checked=True,
        signature_name=consent.signature_name,
        document_version=consent.document_version,
        ip=client.ip,
        user_agent=client.user_agent,
    )
    organisation = membership.organisation
    created = create_job(
        photo=photo,
        consent=act,
        client=client,
        style=organisation.brand_style(),
        owner=membership.user,
        retention=timedelta(days=organisation.unapproved_retention_days),
        consent_subject_type=ConsentSubjectType.MEMBER,
        consent_subject_id=str(membership.pk),
    )
    with transaction.atomic():
        submission = TeamSubmission.objects.create(membership=membership, job=created.job)
        # Older unsubmitted attempts are superseded; their results follow the unapproved policy.
        _set_member_status(membership, MemberStatus.CONSENTED)
    return submission


def refresh_submission(submission: TeamSubmission) -> TeamSubmission:
    """Follow the job: generating → generated (or failed) once the worker has finished."""
    from portraits.models import JobStatus

    if submission.status != SubmissionStatus.GENERATING:
        return submission
    job_status = (
        type(submission.job).objects.filter(pk=submission.job_id).values_list("status", flat=True).first()
    )
    if job_status == JobStatus.DONE:
        TeamSubmission.objects.filter(pk=submission.pk, status=SubmissionStatus.GENERATING).update(
            status=SubmissionStatus.GENERATED
        )
        submission.status = SubmissionStatus.GENERATED
        membership = submission.membership
        if membership.status in {MemberStatus.JOINED, MemberStatus.CONSENTED, MemberStatus.REDO}:
            _set_member_status(membership, MemberStatus.GENERATED)
    elif job_status in {JobStatus.FAILED, JobStatus.DELETED}:
        TeamSubmission.objects.filter(pk=submission.pk).update(status=SubmissionStatus.FAILED)
        submission.status = SubmissionStatus.FAILED
    return submission


def submit_favourite(submission: TeamSubmission, portrait_id: Any) -> None:
    """The member picks one portrait of the job and sends it to their admin."""
    refresh_submission(submission)
    if submission.status not in {SubmissionStatus.GENERATED, SubmissionStatus.SUBMITTED}:
        raise TeamError("These portraits are not ready to submit.")
    portrait = submission.job.portraits.filter(pk=portrait_id).first()
    if portrait is None:
        raise TeamError("Pick one of your portraits.")
    with transaction.atomic():
        submission.favourite = portrait
        submission.status = SubmissionStatus.SUBMITTED
        submission.submitted_at = timezone.now()
        submission.save(update_fields=["favourite", "status", "submitted_at"])
        _set_member_status(submission.membership, MemberStatus.SUBMITTED)
        record_event(
            "submission.submitted",
            actor=user_actor(submission.membership.user),
            object_type="team_submission",
            object_id=str(submission.pk),
        )
        _tell_admins_of_submission(submission)


def approve_submission(submission: TeamSubmission, *, reviewer: User) -> None:
    """Approve the favourite; its job is now kept for the organisation's approved retention."""
    organisation = submission.membership.organisation
    now = timezone.now()
    with transaction.atomic():
        changed = TeamSubmission.objects.filter(pk=submission.pk, status=SubmissionStatus.SUBMITTED).update(
            status=SubmissionStatus.APPROVED, approved_at=now, reviewed_by=reviewer
        )
        if changed != 1:
            raise TeamError("Only a submitted headshot can be approved.")
        type(submission.job).objects.filter(pk=submission.job_id).update(
            expires_at=add_months(now, organisation.approved_retention_months)
        )
        _set_member_status(submission.membership, MemberStatus.APPROVED)
        record_event(
            "submission.approved",
            actor=user_actor(reviewer),
            object_type="team_submission",
            object_id=str(submission.pk),
        )
        send_email(
            "team-approved",
            [submission.membership.user.email],
            {
                "organisation": organisation.name,
                "link": settings.SITE_URL + reverse("accounts:team_member", args=[organisation.slug]),
            },
        )
    submission.refresh_from_db()


def _tell_admins_of_submission(submission: TeamSubmission) -> None:
    """One e-mail per owner or admin (not the member themself) when a headshot awaits approval."""
    membership = submission.membership
    organisation = membership.organisation
    admins = (
        Membership.objects.filter(organisation=organisation, role__in=[Role.OWNER, Role.ADMIN])
        .exclude(user_id=membership.user_id)
        .select_related("user")
    )
    member_name = membership.user.get_full_name() or membership.user.email
    link = settings.SITE_URL + reverse("accounts:org_dashboard", args=[organisation.slug])
    for admin in admins:
        send_email(
            "team-submitted",
            [admin.user.email],
            {"organisation": organisation.name, "member": member_name, "link": link},
        )


def request_redo(submission: TeamSubmission, *, reviewer: User, note: str = "") -> None:
    """Ask the member for another try; they are told by email, with the admin's note."""
    with transaction.atomic():
        changed = TeamSubmission.objects.filter(
            pk=submission.pk, status__in=[SubmissionStatus.SUBMITTED, SubmissionStatus.APPROVED]
        ).update(status=SubmissionStatus.REDO, reviewed_by=reviewer, approved_at=None, redo_note=note[:300])
        if changed != 1:
            raise TeamError("Only a submitted headshot can be sent back.")
        organisation = submission.membership.organisation
        type(submission.job).objects.filter(pk=submission.job_id).update(
            expires_at=submission.job.created_at + timedelta(days=organisation.unapproved_retention_days)
        )
        _set_member_status(submission.membership, MemberStatus.REDO)
        record_event(
            "submission.redo_requested",
            actor=user_actor(reviewer),
            object_type="team_submission",
            object_id=str(submission.pk),
        )
        send_email(
            "team-redo",
            [submission.membership.user.email],
            {
                "organisation": organisation.name,
                "note": note,
                "link": settings.SITE_URL + reverse("accounts:team_member", args=[organisation.slug]),
            },
        )


def send_reminder(
    organisation: Organisation,
    *,
    actor: User,
    membership: Membership | None = None,
    invitation: Invitation | None = None,
) -> None:
    """Nudge one member (or re-send one invitation) about their headshot."""
    if invitation is not None:
        resend_invitation(invitation, actor=actor)
        return
    assert membership is not None
    _check_mail_limit("reminder", membership.user.email, organisation)
    send_email(
        "team-reminder",
        [membership.user.email],
        {
            "organisation": organisation.name,
            "link": settings.SITE_URL + reverse("accounts:team_member", args=[organisation.slug]),
        },
    )
    record_event(
        "member.reminded", actor=user_actor(actor), object_type="membership", object_id=str(membership.pk)
    )


# --- Dashboard and export


@dataclass(frozen=True)
class MemberRow:
    membership: Membership | None
    invitation: Invitation | None
    status: str
    submission: TeamSubmission | None


def dashboard_rows(organisation: Organisation) -> list[MemberRow]:
    """Each person's status: invited, joined, consented, generated, submitted, redo, approved."""
    rows: list[MemberRow] = []
    now = timezone.now()
    memberships = organisation.memberships.select_related("user").prefetch_related("submissions")
    for membership in memberships:
        submissions = sorted(membership.submissions.all(), key=lambda s: s.created_at, reverse=True)
        latest = refresh_submission(submissions[0]) if submissions else None
        approved = next((s for s in submissions if s.status == SubmissionStatus.APPROVED), None)
        rows.append(MemberRow(membership, None, str(membership.status), approved or latest))
    for invitation in organisation.invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True):
        rows.append(
            MemberRow(None, invitation, "invited" if invitation.expires_at > now else "expired", None)
        )
    return rows


def approved_submissions(organisation: Organisation) -> list[TeamSubmission]:
    return list(
        TeamSubmission.objects.filter(
            membership__organisation=organisation, status=SubmissionStatus.APPROVED, favourite__isnull=False
        )
        .select_related("membership__user", "favourite", "job", "job__results_key")
        .order_by("membership__user__email")
    )


# A spreadsheet reads a cell starting with one of these as a formula ("CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: str) -> str:
    """The value as a spreadsheet shows it as text: a leading quote defuses a would-be formula."""
    return f"'{value}" if value.startswith(FORMULA_PREFIXES) else value


def headshot_filename(submission: TeamSubmission) -> str:
    user = submission.membership.user
    base = slugify(user.get_full_name() or user.email.split("@")[0]) or f"member-{user.pk}"
    return f"{base}-{submission.pk}.{submission.favourite.full_format if submission.favourite else 'jpg'}"


def export_approved_zip(organisation: Organisation, *, actor: str) -> bytes:
    """Approved headshots (full resolution) plus manifest.csv: name, email, file, approved_at."""
    from portraits.services import read_portrait_bytes

    buffer = io.BytesIO()
    manifest = io.StringIO()
    writer = csv.writer(manifest)
    writer.writerow(["name", "email", "file", "approved_at"])
    submissions = approved_submissions(organisation)
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for submission in submissions:
            user = submission.membership.user
            filename = headshot_filename(submission)
            assert submission.favourite is not None
            archive.writestr(filename, read_portrait_bytes(submission.favourite, "full"))
            approved_at = submission.approved_at.isoformat() if submission.approved_at else ""
            # Names and addresses are typed by members: never let a spreadsheet run them.
            writer.writerow(
                [spreadsheet_cell(cell) for cell in (user.get_full_name(), user.email, filename, approved_at)]
            )
        archive.writestr("manifest.csv", manifest.getvalue())
    record_event(
        "organisation.headshots_exported",
        actor=actor,
        object_type="organisation",
        object_id=str(organisation.pk),
        data={"headshots": len(submissions)},
    )
    return buffer.getvalue()


# --- Removing members, deleting organisations


def erase_membership_data(membership: Membership, *, reason: str, actor: str) -> int:
    """Erase every job the member made for this organisation, with its submissions."""
    from portraits.models import JobStatus
    from portraits.services import erase_job

    erased = 0
    for submission in membership.submissions.select_related("job"):
        if submission.job.status != JobStatus.DELETED:
            erase_job(submission.job, reason=reason, actor=actor)
            erased += 1
    membership.submissions.all().delete()
    return erased


def remove_member(membership: Membership, *, actor: User) -> None:
    """Remove someone from the organisation and erase what they made for it. Their account stays."""
    if (
        membership.role == Role.OWNER
        and membership.organisation.memberships.filter(role=Role.OWNER).count() == 1
    ):
        raise TeamError("The only owner cannot be removed; make someone else owner first.")
    with transaction.atomic():
        erased = erase_membership_data(membership, reason="member_removed", actor=user_actor(actor))
        membership_id = membership.pk
        membership.delete()
        record_event(
            "member.removed",
            actor=user_actor(actor),
            object_type="membership",
            object_id=str(membership_id),
            data={"jobs_erased": erased},
        )


def delete_organisation(organisation: Organisation, *, actor: User) -> Any:
    """Erase every member job, then the organisation itself; the owners get the certificate by email."""
    from compliance.services import Subject, erase_subject

    job_ids = tuple(
        str(job_id)
        for job_id in TeamSubmission.objects.filter(membership__organisation=organisation).values_list(
            "job_id", flat=True
        )
    )
    owner_emails = list(
        organisation.memberships.filter(role=Role.OWNER).values_list("user__email", flat=True)
    )
    # Stop billing first: a deleted organisation must not be charged again.
    from accounts.billing import end_team_plan_now

    end_team_plan_now(organisation)
    certificate = erase_subject(
        Subject(job_ids=job_ids, organisation_id=organisation.pk),
        reason=f"organisation_deleted:{organisation.pk}",
        actor=user_actor(actor),
    )
    organisation_id = organisation.pk
    with transaction.atomic():
        organisation.delete()  # cascades memberships, invitations, tokens, submissions
        record_event(
            "organisation.deleted",
            actor=user_actor(actor),
            object_type="organisation",
            object_id=str(organisation_id),
            data={"jobs_erased": len(job_ids)},
        )
    send_email(
        "team-organisation-deleted",
        owner_emails,
        {"organisation": organisation.name, "certificate": certificate, "jobs": len(job_ids)},
        on_commit=False,
    )
    return certificate


# --- Retention


def enforce_retention(organisation: Organisation | None = None) -> int:
    """Make every member job's expiry match its organisation's policy; the portraits purge erases them."""
    from portraits.models import JobStatus, PortraitJob

    organisations = [organisation] if organisation else list(Organisation.objects.all())
    updated = 0
    for org in organisations:
        submissions = (
            TeamSubmission.objects.filter(membership__organisation=org)
            .exclude(job__status=JobStatus.DELETED)
            .select_related("job")
        )
        for submission in submissions:
            if submission.status == SubmissionStatus.APPROVED and submission.approved_at:
                expires_at = add_months(submission.approved_at, org.approved_retention_months)
            else:
                expires_at = submission.job.created_at + timedelta(days=org.unapproved_retention_days)
            if submission.job.expires_at != expires_at:
                updated += PortraitJob.objects.filter(pk=submission.job_id).update(expires_at=expires_at)
    if updated:
        record_event(
            "organisation.retention_enforced", actor="system:accounts", data={"jobs_updated": updated}
        )
    return updated


# --- Organisation API tokens


def create_api_token(
    organisation: Organisation, *, name: str, actor: User
) -> tuple[OrganisationApiToken, str]:
    """A new token; the clear value is returned once and never stored."""
    raw = "ppo_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = OrganisationApiToken.objects.create(
            organisation=organisation,
            name=name.strip()[:100] or "API token",
            token_hash=hash_secret(raw),
            prefix=raw[:10],
            created_by=actor,
        )
        record_event(
            "api_token.created", actor=user_actor(actor), object_type="api_token", object_id=str(token.pk)
        )
    return token, raw


def revoke_api_token(token: OrganisationApiToken, *, actor: User) -> None:
    with transaction.atomic():
        OrganisationApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        record_event(
            "api_token.revoked", actor=user_actor(actor), object_type="api_token", object_id=str(token.pk)
        )


def authenticate_api_token(raw: str) -> OrganisationApiToken | None:
    token = (
        OrganisationApiToken.objects.select_related("organisation")
        .filter(token_hash=hash_secret(raw.strip()), revoked_at__isnull=True)
        .first()
    )
    if token is not None:
        # Coarse, so that every API call does not write a row.
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
            OrganisationApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
