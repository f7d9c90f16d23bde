"""Team pages: the organisation admin's pages (2FA required) and the member's journey.

Every lookup goes through the requesting person's membership: an organisation they are not in,
or an object id from another organisation, is a 404, never a 403 that would confirm it exists.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts import billing, teams
from accounts.forms import (
    ApiTokenForm,
    FavouriteForm,
    InviteCsvForm,
    InviteForm,
    MemberConsentForm,
    MemberUploadForm,
    OrganisationCreateForm,
    OrganisationSettingsForm,
    PasswordConfirmForm,
    RedoForm,
)
from accounts.models import Invitation, Membership, OrganisationApiToken, SubmissionStatus, TeamSubmission
from accounts.views import verified_required
from portraits.payments.stripe_gateway import GatewayError
from proportrait.http import client_ip

INVITED_EMAIL_SESSION_KEY = "invited_email"


def admin_membership(request: HttpRequest, slug: str) -> Membership:
    assert request.user.is_authenticated  # every caller is behind verified_required
    membership = (
        Membership.objects.select_related("organisation")
        .filter(user=request.user, organisation__slug=slug)
        .first()
    )
    if membership is None or not membership.is_admin:
        raise Http404
    return membership


def own_membership(request: HttpRequest, slug: str) -> Membership:
    assert request.user.is_authenticated  # every caller is behind login_required
    membership = (
        Membership.objects.select_related("organisation", "user")
        .filter(user=request.user, organisation__slug=slug)
        .first()
    )
    if membership is None:
        raise Http404
    return membership


# --- Organisation admin


@login_required
@never_cache
def organisation_create(request: HttpRequest) -> HttpResponse:
    # An organisation sends invitations in its owner's name: the owner's address must be proven.
    if request.user.email_verified_at is None:  # type: ignore[union-attr]
        messages.error(request, "Please verify your email address before creating an organisation.")
        return redirect("accounts:resend_verification")
    form = OrganisationCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        organisation = teams.create_organisation(owner=request.user, name=form.cleaned_data["name"])  # type: ignore[arg-type]
        messages.success(request, "Organisation created. Set up two-factor authentication to manage it.")
        return redirect("accounts:org_dashboard", slug=organisation.slug)
    return render(request, "accounts/org_create.html", {"form": form}, status=400 if form.errors else 200)


@verified_required
@never_cache
def organisation_dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    membership = admin_membership(request, slug)
    organisation = membership.organisation
    from portraits.services import signed_portrait_url

    rows = []
    for row in teams.dashboard_rows(organisation):
        preview = ""
        submission = row.submission
        # Admins see the submitted favourite only: a generated portrait, never an original.
        if (
            submission is not None
            and submission.favourite is not None
            and submission.status
            in {
                SubmissionStatus.SUBMITTED,
                SubmissionStatus.APPROVED,
            }
        ):
            preview = signed_portrait_url(submission.favourite, "preview")
        rows.append({"row": row, "preview": preview})
    context = {
        "organisation": organisation,
        "membership": membership,
        "rows": rows,
        "seats_used": teams.seats_used(organisation),
        "seat_limit": billing.seat_limit(organisation),
        "invite_form": InviteForm(),
        "csv_form": InviteCsvForm(),
        "redo_form": RedoForm(),
        "dpa_url": _dpa_url(organisation),
    }
    return render(request, "accounts/org_dashboard.html", context)


@verified_required
@never_cache
def organisation_settings(request: HttpRequest, slug: str) -> HttpResponse:
    membership = admin_membership(request, slug)
    organisation = membership.organisation
    form = OrganisationSettingsForm(request.POST or None, instance=organisation)
    if request.method == "POST" and form.is_valid():
        teams.update_organisation(form.instance, actor=request.user, changed=list(form.changed_data))  # type: ignore[arg-type]
        messages.success(request, "Settings saved. New portraits use this brand style.")
        return redirect("accounts:org_settings", slug=slug)
    return render(
        request,
        "accounts/org_settings.html",
        {
            "organisation": organisation,
            "membership": membership,
            "form": form,
            "dpa_url": _dpa_url(organisation),
        },
        status=400 if form.errors else 200,
    )


@verified_required
@require_POST
def invite(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = admin_membership(request, slug).organisation
    form = InviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter a valid email address.")
        return redirect("accounts:org_dashboard", slug=slug)
    try:
        teams.invite_member(
            organisation,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            invited_by=request.user,  # type: ignore[arg-type]
        )
    except (teams.TeamError, ValidationError) as error:
        messages.error(request, str(error.messages[0] if isinstance(error, ValidationError) else error))
    else:
        messages.success(request, "Invitation sent.")
    return redirect("accounts:org_dashboard", slug=slug)


@verified_required
@require_POST
def invite_csv(request: HttpRequest, slug: str) -> HttpResponse:
    membership = admin_membership(request, slug)
    organisation = membership.organisation
    form = InviteCsvForm(request.POST, request.FILES)
    reports: list[teams.CsvRowReport] = []
    error = ""
    if form.is_valid():
        try:
            reports = teams.invite_from_csv(
                organisation,
                text=form.cleaned_data["csv_file"],
                invited_by=request.user,  # type: ignore[arg-type]
            )
        except teams.TeamError as exc:
            error = str(exc)
    else:
        error = " ".join(str(message) for message in form.errors.get("csv_file", ["Choose a CSV file."]))
    return render(
        request,
        "accounts/org_csv_report.html",
        {"organisation": organisation, "reports": reports, "error": error},
        status=400 if error else 200,
    )


def _invitation(organisation: Any, invitation_id: int) -> Invitation:
    invitation = organisation.invitations.filter(pk=invitation_id).first()
    if invitation is None:
        raise Http404
    return invitation


@verified_required
@require_POST
def invitation_resend(request: HttpRequest, slug: str, invitation_id: int) -> HttpResponse:
    organisation = admin_membership(request, slug).organisation
    try:
        teams.resend_invitation(_invitation(organisation, invitation_id), actor=request.user)  # type: ignore[arg-type]
    except teams.TeamError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Invitation sent again with a fresh link.")
    return redirect("accounts:org_dashboard", slug=slug)


@verified_required
@require_POST
def invitation_revoke(request: HttpRequest, slug: str, invitation_id: int) -> HttpResponse:
    organisation = admin_membership(request, slug).organisation
    teams.revoke_invitation(_invitation(organisation, invitation_id), actor=request.user)  # type: ignore[arg-type]
    messages.success(request, "Invitation revoked; its link no longer works.")
    return redirect("accounts:org_dashboard", slug=slug)


def _member(organisation: Any, membership_id: int) -> Membership:
    member = organisation.memberships.select_related("user").filter(pk=membership_id).first()
    if member is None:
        raise Http404
    return member


@verified_required
@require_POST
def member_remind(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    organisation = admin_membership(request, slug).organisation
    try:
        teams.send_reminder(organisation, actor=request.user, membership=_member(organisation, membership_id))  # type: ignore[arg-type]
    except teams.TeamError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Reminder sent.")
    return redirect("accounts:org_dashboard", slug=slug)


@verified_required
@never_cache
def member_remove(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    """GET asks for confirmation (works without JavaScript); POST removes the member."""
    organisation = admin_membership(request, slug).organisation
    member = _member(organisation, membership_id)
    if request.method != "POST":
        context = {"organisation": organisation, "member": member}
        return render(request, "accounts/member_remove_confirm.html", context)
    try:
        teams.remove_member(member, actor=request.user)  # type: ignore[arg-type]
    except teams.TeamError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Member removed; what they made for the organisation is erased.")
    return redirect("accounts:org_dashboard", slug=slug)


def _submission(organisation: Any, submission_id: int) -> TeamSubmission:
    submission = (
        TeamSubmission.objects.select_related("membership__user", "membership__organisation", "job")
        .filter(pk=submission_id, membership__organisation=organisation)
        .first()
    )
    if submission is None:
        raise Http404
    return submission


@verified_required
@require_POST
def submission_approve(request: HttpRequest, slug: str, submission_id: int) -> HttpResponse:
    organisation = admin_membership(request, slug).organisation
    try:
        teams.approve_submission(_submission(organisation, submission_id), reviewer=request.user)  # type: ignore[arg-type]
    except teams.TeamError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Headshot approved.")
    return redirect("accounts:org_dashboard", slug=slug)


@verified_required
@require_POST
def submission_redo(request: HttpRequest, slug: str, submission_id: int) -> HttpResponse:
    organisation = admin_membership(request, slug).organisation
    form = RedoForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        teams.request_redo(_submission(organisation, submission_id), reviewer=request.user, note=note)  # type: ignore[arg-type]
    except teams.TeamError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "We asked them for another try.")
    return redirect("accounts:org_dashboard", slug=slug)


@verified_required
def export_zip(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = admin_membership(request, slug).organisation
    data = teams.export_approved_zip(organisation, actor=f"user:{request.user.pk}")
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{organisation.slug}-headshots.zip"'
    response["Cache-Control"] = "private, no-store"
    return response


@verified_required
@never_cache
def api_tokens(request: HttpRequest, slug: str) -> HttpResponse:
    membership = admin_membership(request, slug)
    organisation = membership.organisation
    form = ApiTokenForm(request.POST or None)
    new_token = ""
    if request.method == "POST" and form.is_valid():
        _token, new_token = teams.create_api_token(
            organisation,
            name=form.cleaned_data["name"],
            actor=request.user,  # type: ignore[arg-type]
        )
        form = ApiTokenForm()
    tokens = organisation.api_tokens.all()
    return render(
        request,
        "accounts/org_tokens.html",
        {
            "organisation": organisation,
            "membership": membership,
            "form": form,
            "tokens": tokens,
            "new_token": new_token,
        },
    )


@verified_required
@require_POST
def api_token_revoke(request: HttpRequest, slug: str, token_id: int) -> HttpResponse:
    organisation = admin_membership(request, slug).organisation
    token = OrganisationApiToken.objects.filter(pk=token_id, organisation=organisation).first()
    if token is None:
        raise Http404
    teams.revoke_api_token(token, actor=request.user)  # type: ignore[arg-type]
    messages.success(request, "Token revoked.")
    return redirect("accounts:org_tokens", slug=slug)


@sensitive_post_parameters("password")
@verified_required
@never_cache
def organisation_delete(request: HttpRequest, slug: str) -> HttpResponse:
    membership = admin_membership(request, slug)
    organisation = membership.organisation
    if membership.role != "owner":
        raise Http404
    form = PasswordConfirmForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid() and request.user.check_password(form.cleaned_data["password"]):  # type: ignore[union-attr]
            try:
                certificate = teams.delete_organisation(organisation, actor=request.user)  # type: ignore[arg-type]
            except GatewayError:
                # Billing must stop before the organisation goes; nothing was deleted.
                form.add_error(None, "Stripe could not be reached to stop your team plan; please try again.")
            else:
                return render(
                    request,
                    "accounts/org_deleted.html",
                    {"certificate": certificate, "name": organisation.name},
                )
        else:
            form.add_error("password", "That password is not right.")
    return render(
        request,
        "accounts/org_delete.html",
        {"organisation": organisation, "form": form},
        status=400 if form.errors else 200,
    )


# --- Invitations and the member journey


@never_cache
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    found = teams.open_invitation(token)
    if found is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    if request.method == "POST" and request.user.is_authenticated:
        try:
            teams.accept_invitation(token, request.user)  # type: ignore[arg-type]
        except teams.TeamError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"You joined {found.organisation.name}.")
            return redirect("accounts:team_member", slug=found.organisation.slug)
    if not request.user.is_authenticated:
        # Sign-up and log-in fill in the invited address (kept in the session, not in a URL).
        request.session[INVITED_EMAIL_SESSION_KEY] = found.email
    return render(
        request,
        "accounts/invitation.html",
        {
            "invitation": found,
            "next": request.get_full_path(),
            "email_matches": request.user.is_authenticated
            and bool(found.email_key)
            and request.user.email_key == found.email_key,
        },  # type: ignore[union-attr]
    )


@login_required
@never_cache
def team_member(request: HttpRequest, slug: str) -> HttpResponse:
    """The member's own page: consent → upload → pick a favourite → submit."""
    from compliance.models import ConsentKind
    from compliance.services import ConsentAct, ConsentError, current_document
    from gpu_worker.errors import InputError
    from portraits.services import ClientInfo, RateLimited

    membership = own_membership(request, slug)
    organisation = membership.organisation
    document = current_document(ConsentKind.BIOMETRIC)
    consent = teams.member_consent(membership)
    consent_form = MemberConsentForm(initial={"consent_version": document.version})
    upload_form = MemberUploadForm()
    error = ""
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        client = ClientInfo(ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")[:300])
        if action == "consent":
            consent_form = MemberConsentForm(request.POST)
            if consent_form.is_valid():
                act = ConsentAct(
                    checked=consent_form.cleaned_data["consent"],
                    signature_name=consent_form.cleaned_data["signature"],
                    document_version=consent_form.cleaned_data["consent_version"],
                    ip=client.ip,
                    user_agent=client.user_agent,
                )
                try:
                    teams.give_member_consent(membership, act)
                except ConsentError as exc:
                    error = str(exc)
                else:
                    return redirect("accounts:team_member", slug=slug)
            else:
                error = "Tick the box and type your full name to give your consent."
        elif action == "upload":
            upload_form = MemberUploadForm(request.POST, request.FILES)
            if upload_form.is_valid():
                try:
                    teams.start_member_job(
                        membership, photo=upload_form.cleaned_data["photo"].read(), client=client
                    )
                except InputError as exc:
                    error = exc.message
                except ConsentError as exc:
                    error = str(exc)
                except RateLimited:
                    error = "Too many uploads from your connection. Please wait an hour and try again."
                else:
                    return redirect("accounts:team_member", slug=slug)
            else:
                error = "Please choose a photo to upload."
        elif action == "submit":
            form = FavouriteForm(request.POST)
            submission = membership.submissions.filter(pk=request.POST.get("submission") or 0).first()
            if submission is None or not form.is_valid():
                error = "Pick one of your portraits."
            else:
                try:
                    teams.submit_favourite(submission, form.cleaned_data["portrait"])
                except teams.TeamError as exc:
                    error = str(exc)
                else:
                    messages.success(request, "Sent to your organisation's admin for approval.")
                    return redirect("accounts:team_member", slug=slug)
        status = 400 if error else 200
    latest = membership.submissions.select_related("job", "favourite").order_by("-created_at").first()
    if latest is not None:
        teams.refresh_submission(latest)
    portraits = []
    if latest is not None and latest.status != SubmissionStatus.GENERATING:
        # The member owns the job: session-authorised links that do not expire while the page is open.
        portraits = [
            {
                "portrait": portrait,
                "preview_url": reverse(
                    "portraits:portrait", args=[latest.job_id, portrait.variant + 1, "preview"]
                ),
            }
            for portrait in latest.job.portraits.all()
        ]
    context = {
        "membership": membership,
        "organisation": organisation,
        "document": document,
        "consent": consent,
        "consent_form": consent_form,
        "upload_form": upload_form,
        "submission": latest,
        "portraits": portraits,
        "error": error,
        "max_upload_mb": settings.PROPORTRAIT_MAX_UPLOAD_BYTES // (1024 * 1024),
        "dpa_url": _dpa_url(organisation),
        "job_url": reverse("portraits:job", args=[latest.job_id]) if latest else "",
    }
    return render(request, "accounts/team_member.html", context, status=status)


def _dpa_url(organisation: Any) -> str:
    from django.urls import NoReverseMatch

    try:
        return reverse("compliance:dpa_pdf", args=[organisation.slug])
    except NoReverseMatch:
        try:
            return reverse("compliance:dpa_pdf", args=[organisation.pk])
        except NoReverseMatch:
            return ""
