"""What the accounts app holds about a person or an organisation, for the compliance cascade.

Registered in AccountsConfig.ready(): the eraser (GDPR Art. 17) and the exporter (Arts. 15, 20).
Portrait jobs themselves are erased and exported by the portraits app.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from accounts.models import Invitation, Membership, Organisation, OrganisationApiToken, TeamSubmission, User
from proportrait.addresses import normalise_email


def erasure_blockers(subject: Any) -> list[str]:
    """The safeguard account deletion applies: erasing the only owner of an organisation would
    leave it with nobody able to manage it, while its members' data and API tokens live on."""
    if subject.user_id is None or getattr(subject, "scope", "everything") == "biometric":
        return []
    if getattr(subject, "organisation_id", None) is not None:
        return []
    from accounts.teams import sole_owned_organisations

    user = User.objects.filter(pk=subject.user_id).first()
    if user is None:
        return []
    return [
        f"The account is the only owner of an organisation (id {organisation.pk}); "
        "ownership must pass to someone else, or the organisation be deleted, first."
        for organisation in sole_owned_organisations(user)
    ]


def erase_account_data(subject: Any) -> Any:
    """Erase memberships, submissions, invitations and the account's personal fields.

    Scope "biometric" (consent withdrawn) removes only what points at portraits (submissions)
    and sends the member back to the start of the journey; the account and memberships stay.
    An organisation subject removes the organisation with everything in it.
    """
    from accounts.models import MemberStatus
    from accounts.services import anonymise_user
    from compliance.services import ErasureReport

    categories: dict[str, int] = {}
    biometric_only = getattr(subject, "scope", "everything") == "biometric"
    organisation_id = getattr(subject, "organisation_id", None)

    if organisation_id is not None and not biometric_only:
        organisation = Organisation.objects.filter(pk=organisation_id).first()
        if organisation is not None:
            categories["team_submissions"] = TeamSubmission.objects.filter(
                membership__organisation=organisation
            ).count()
            categories["memberships"] = organisation.memberships.count()
            categories["invitations"] = organisation.invitations.count()
            categories["api_tokens"] = organisation.api_tokens.count()
            organisation.delete()
            categories["organisations"] = 1

    if subject.user_id is not None:
        blockers = erasure_blockers(subject)
        if blockers:
            # Never leave a headless organisation behind (the caller records this eraser as failed).
            raise RuntimeError(blockers[0])
        submissions = TeamSubmission.objects.filter(membership__user_id=subject.user_id)
        categories["team_submissions"] = categories.get("team_submissions", 0) + submissions.delete()[0]
        if biometric_only:
            Membership.objects.filter(user_id=subject.user_id).update(status=MemberStatus.JOINED)
        else:
            categories["memberships"] = Membership.objects.filter(user_id=subject.user_id).delete()[0]
            # Tokens belong to the organisation; only the link to the person goes.
            OrganisationApiToken.objects.filter(created_by_id=subject.user_id).update(created_by=None)
            Invitation.objects.filter(Q(invited_by_id=subject.user_id)).update(invited_by=None)
            Invitation.objects.filter(Q(accepted_by_id=subject.user_id)).update(accepted_by=None)
            from django_otp.plugins.otp_static.models import StaticDevice
            from django_otp.plugins.otp_totp.models import TOTPDevice

            categories["two_factor_devices"] = (
                TOTPDevice.objects.filter(user_id=subject.user_id).delete()[0]
                + StaticDevice.objects.filter(user_id=subject.user_id).delete()[0]
            )
            categories["accounts"] = anonymise_user(subject.user_id)

    if subject.email and not biometric_only:
        categories["invitations"] = (
            categories.get("invitations", 0)
            + Invitation.objects.filter(email_key=normalise_email(subject.email)).delete()[0]
        )

    return ErasureReport(
        app="accounts",
        categories=categories,
        systems=("database",),
        notes="The account row is anonymised here and deleted when the person deletes their account.",
    )


def export_account_data(subject: Any) -> Any:
    """The account, memberships and submissions as JSON-ready data (no secrets, no hashes)."""
    from compliance.services import ExportPart

    data: dict[str, Any] = {}
    if subject.user_id is not None:
        user = User.objects.filter(pk=subject.user_id).first()
        if user is not None:
            data["account"] = {
                "email": user.email,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "date_joined": user.date_joined.isoformat(),
                "email_verified_at": user.email_verified_at.isoformat() if user.email_verified_at else None,
                "last_login": user.last_login.isoformat() if user.last_login else None,
            }
        data["memberships"] = [
            {
                "organisation": membership.organisation.name,
                "role": membership.role,
                "status": membership.status,
                "joined_at": membership.created_at.isoformat(),
            }
            for membership in Membership.objects.filter(user_id=subject.user_id).select_related(
                "organisation"
            )
        ]
        data["team_submissions"] = [
            {
                "organisation": submission.membership.organisation.name,
                "job_id": str(submission.job_id),
                "status": submission.status,
                "submitted_at": submission.submitted_at.isoformat() if submission.submitted_at else None,
                "approved_at": submission.approved_at.isoformat() if submission.approved_at else None,
            }
            for submission in TeamSubmission.objects.filter(
                membership__user_id=subject.user_id
            ).select_related("membership__organisation")
        ]
    if subject.email:
        data["invitations"] = [
            {
                "organisation": invitation.organisation.name,
                "created_at": invitation.created_at.isoformat(),
                "accepted_at": invitation.accepted_at.isoformat() if invitation.accepted_at else None,
            }
            for invitation in Invitation.objects.filter(
                email_key=normalise_email(subject.email)
            ).select_related("organisation")
        ]
    return ExportPart(json_data=data)
