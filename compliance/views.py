"""Public compliance pages, private download links, and organisation/staff documents."""

from __future__ import annotations

import json
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import user_has_device

from accounts.views import verified_required
from compliance import checkpoints, pdf, services
from compliance.forms import CertificateCheckForm, DsarForm, VerifyForm
from compliance.legal import APPEAL_ANSWER_DAYS, ATTORNEYS_GENERAL, LEGAL_PAGES, legal_page
from compliance.models import (
    ConsentDocument,
    ConsentKind,
    DataExport,
    DataSubjectRequest,
    DeletionCertificate,
    DsarHold,
    DsarStatus,
    SubProcessor,
    SubprocessorRegisterVersion,
)
from compliance.pdf import responsible_parties
from compliance.services.breaches import DEADLINES
from compliance.services.dpa import organisation_role
from compliance.services.dsar import account_confirmation_needed, certificate_for_token, confirm_by_account
from compliance.services.notices import photo_recipients
from compliance.services.registers import ADMIN_ROLES, ROPA_FIELDS
from compliance.services.subprocessors import pending_changes
from proportrait import ratelimit
from proportrait.http import client_ip


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


# --- Public pages.


def privacy(request: HttpRequest) -> HttpResponse:
    try:
        notice = services.current_document(ConsentKind.BIOMETRIC)
    except ConsentDocument.DoesNotExist:  # the page must render before any notice is published
        notice = None
    return render(
        request,
        "compliance/privacy.html",
        {
            "schedule": services.retention_schedule(),
            "notice": notice,
            "subprocessors": SubProcessor.objects.filter(until__isnull=True),
            "company": settings.PROPORTRAIT_COMPANY_NAME,
            "company_address": settings.PROPORTRAIT_COMPANY_ADDRESS,
            "privacy_email": settings.PROPORTRAIT_PRIVACY_EMAIL,
            "photo_recipients": photo_recipients(),
            "legal": legal_page("privacy"),
            **responsible_parties(),
        },
    )


def retention(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "compliance/retention.html",
        {"schedule": services.retention_schedule(), "legal": legal_page("retention")},
    )


def legal(request: HttpRequest, slug: str) -> HttpResponse:
    """The legal pages that have no view of their own (health data, biometric policy, California, appeals)."""
    page = LEGAL_PAGES.get(slug)
    if page is None or slug in {"privacy", "retention", "subprocessors", "audit"}:
        raise Http404("No such page.")
    return render(
        request,
        page.template,
        {
            "legal": page,
            "schedule": services.retention_schedule(),
            "company": settings.PROPORTRAIT_COMPANY_NAME,
            "privacy_email": settings.PROPORTRAIT_PRIVACY_EMAIL,
            "photo_recipients": photo_recipients(),
            "deadlines": DEADLINES,
            "attorneys_general": ATTORNEYS_GENERAL,
            "appeal_days": APPEAL_ANSWER_DAYS,
            "gpc": request.headers.get("Sec-GPC", "").strip() == "1",
            **responsible_parties(),
        },
    )


def subprocessors(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "compliance/subprocessors.html",
        {
            "subprocessors": SubProcessor.objects.filter(until__isnull=True),
            "former": SubProcessor.objects.filter(until__isnull=False),
            "versions": SubprocessorRegisterVersion.objects.order_by("-version")[:20],
            "pending": pending_changes(),
            "legal": legal_page("subprocessors"),
        },
    )


def audit_checkpoint(request: HttpRequest) -> HttpResponse:
    """The latest signed head of the audit log and the public keys that verify it."""
    return render(
        request,
        "compliance/audit_checkpoint.html",
        {**checkpoints.checkpoint_context(checkpoints.latest_checkpoint()), "legal": legal_page("audit")},
    )


def audit_checkpoint_json(request: HttpRequest) -> HttpResponse:
    checkpoint = checkpoints.latest_checkpoint()
    if checkpoint is None:
        raise Http404("No checkpoint has been published yet.")
    body = json.loads(checkpoints.document_for(checkpoint))
    body["public_keys"] = checkpoints.public_keys()
    return HttpResponse(json.dumps(body, indent=2), content_type="application/json")


VERIFY_ATTEMPTS_PER_HOUR = 30


def verify_certificate(request: HttpRequest) -> HttpResponse:
    """Anyone pastes a certificate's id and event hash; we confirm it against the audit log."""
    form = CertificateCheckForm(request.POST or None)
    report = None
    status = 200
    if request.method == "POST":
        if ratelimit.hit(f"certificate-check:{client_ip(request)}", 3600) > VERIFY_ATTEMPTS_PER_HOUR:
            form.add_error(None, "Too many checks from your network. Please try again in an hour.")
            status = 429
        elif form.is_valid():
            report = checkpoints.verify_certificate(
                str(form.cleaned_data["certificate_id"]), form.cleaned_data["event_hash"]
            )
            status = 200 if report.ok else 404
        else:
            status = 400
    return render(
        request, "compliance/verify_certificate.html", {"form": form, "report": report}, status=status
    )


def dsar(request: HttpRequest) -> HttpResponse:
    form = DsarForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.create_request(
                email=form.cleaned_data["email"],
                request_type=form.cleaned_data["request_type"],
                details=form.cleaned_data["details"],
                job_reference=form.cleaned_data["job_reference"],
                jurisdiction=form.cleaned_data["jurisdiction"] or "unknown",
                ip=client_ip(request),
                signed_in_user=request.user,
            )
        except services.DsarError as error:
            form.add_error(None, error.message)
        else:
            return redirect("compliance:dsar_verify", request_id=created.id)
    return render(request, "compliance/dsar.html", {"form": form}, status=400 if form.errors else 200)


def dsar_verify(request: HttpRequest, request_id: str) -> HttpResponse:
    dsar_request = get_object_or_404(DataSubjectRequest, pk=request_id)
    form = VerifyForm(request.POST or None)
    status, error_message = 200, ""
    if request.method == "POST":
        try:
            if "resend" in request.POST:
                services.resend_code(dsar_request.pk, ip=client_ip(request))
                messages.success(request, "We have sent you a new code.")
                return redirect("compliance:dsar_verify", request_id=dsar_request.pk)
            if form.is_valid():
                services.verify_request(dsar_request.pk, form.cleaned_data["code"], ip=client_ip(request))
                messages.success(
                    request, "Thank you: your request is verified. We email you as it progresses."
                )
                return redirect("compliance:dsar_verify", request_id=dsar_request.pk)
        except services.DsarError as error:
            error_message = error.message
        status = 400
    dsar_request.refresh_from_db()
    return render(
        request,
        "compliance/dsar_verify.html",
        {
            "dsar": dsar_request,
            "form": form,
            "error_message": error_message,
            "unverified": dsar_request.status == DsarStatus.UNVERIFIED,
            "needs_sign_in": account_confirmation_needed(dsar_request),
            "held_for_staff": dsar_request.hold == DsarHold.SOLE_OWNER,
        },
        status=status,
    )


@never_cache
def dsar_confirm(request: HttpRequest, request_id: str) -> HttpResponse:
    """The account holder confirms, signed in, a request made with their address.

    Anyone else (signed out, another account) learns nothing: signed-out people are sent to sign
    in, other accounts get 404. An account with a second factor must pass it in this session.
    """
    if not request.user.is_authenticated:
        return redirect(f"{reverse('accounts:login')}?{urlencode({'next': request.path})}")
    dsar_request = get_object_or_404(DataSubjectRequest, pk=request_id)
    if (dsar_request.matched_subject or {}).get("user_id") != request.user.pk:
        raise Http404("No such request.")
    second_factor_passed = bool(getattr(request.user, "is_verified", lambda: False)())
    if user_has_device(request.user, confirmed=True) and not second_factor_passed:
        messages.info(request, "Enter a code from your authenticator app to confirm this request.")
        return redirect(f"{reverse('accounts:otp_verify')}?{urlencode({'next': request.path})}")
    error_message, status = "", 200
    if request.method == "POST":
        try:
            confirm_by_account(dsar_request.pk, request.user, second_factor_passed=second_factor_passed)
        except services.DsarError as error:
            error_message, status = error.message, error.http_status
        else:
            messages.success(request, "Thank you: your request is confirmed. We email you when it is done.")
            return redirect("compliance:dsar_confirm", request_id=dsar_request.pk)
        dsar_request.refresh_from_db()
    return render(
        request,
        "compliance/dsar_confirm.html",
        {
            "dsar": dsar_request,
            "needs_confirmation": account_confirmation_needed(dsar_request),
            "error_message": error_message,
        },
        status=status,
    )


# --- Links sent by email.


def export_download(request: HttpRequest, token: str) -> HttpResponse:
    export = services.find_export(token)
    if export is None:
        raise Http404("No such download.")
    try:
        content = services.read_export(export)
    except LookupError:
        # Expired: shred it now rather than at the next housekeeping run.
        services.destroy_export(export)
        return render(request, "compliance/link_expired.html", status=410)
    DataExport.objects.filter(pk=export.pk, downloaded_at__isnull=True).update(downloaded_at=timezone.now())
    response = HttpResponse(content, content_type="application/zip")
    reference = export.request.reference if export.request else "export"
    response["Content-Disposition"] = f'attachment; filename="proportrait-{reference}.zip"'
    response["Cache-Control"] = "private, no-store"
    return response


def certificate_pdf(request: HttpRequest, token: str) -> HttpResponse:
    certificate = certificate_for_token(token)
    if certificate is None:
        raise Http404("No such certificate, or the link has expired.")
    return _pdf_response(
        pdf.render_certificate(certificate), f"deletion-certificate-{certificate.reference}.pdf"
    )


# --- Signed-in people.


@login_required
def consent_history(request: HttpRequest) -> HttpResponse:
    history = services.consent_history(user_id=request.user.pk)
    response = HttpResponse(
        json.dumps(history, indent=2, ensure_ascii=False), content_type="application/json"
    )
    response["Content-Disposition"] = 'attachment; filename="consent-history.json"'
    return response


@login_required
@require_POST
def withdraw_consent(request: HttpRequest) -> HttpResponse:
    records = services.withdraw_consent(
        user=request.user,
        actor=f"user:{request.user.pk}",
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )
    messages.success(
        request,
        "Your consent is withdrawn and your portraits are deleted."
        if records
        else "There was no active consent to withdraw; any portraits left have been deleted.",
    )
    return redirect(_safe_next(request, "/"))


@login_required
def my_data_export(request: HttpRequest) -> HttpResponse:
    subject = services.Subject(user_id=request.user.pk, email=getattr(request.user, "email", ""))
    archive = services.export_subject_data(subject, reference="account", actor=f"user:{request.user.pk}")
    response = HttpResponse(archive, content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="proportrait-my-data.zip"'
    response["Cache-Control"] = "private, no-store"
    return response


def _organisation(request: HttpRequest, slug: str) -> tuple[Any, str]:
    """The organisation and the user's role in it. Someone who is not a member (nor our staff)
    gets the same 404 as for a slug that does not exist: a 403 would confirm that it does."""
    from django.apps import apps

    organisation = get_object_or_404(apps.get_model("accounts", "Organisation"), slug=slug)
    role = organisation_role(request.user, organisation)
    if not role and not (request.user.is_staff and request.user.is_active):
        raise Http404("No such organisation.")
    return organisation, role


@verified_required
def dpa_pdf(request: HttpRequest, slug: str) -> HttpResponse:
    organisation, _ = _organisation(request, slug)
    if not services.can_manage_dpa(request.user, organisation):
        raise PermissionDenied("Only the organisation's owners and admins can download its DPA.")
    content = pdf.render_dpa(services.dpa_context(organisation))
    return _pdf_response(content, f"dpa-{organisation.slug}.pdf")


@verified_required
@require_POST
def dpa_accept(request: HttpRequest, slug: str) -> HttpResponse:
    organisation, _ = _organisation(request, slug)
    try:
        services.accept_dpa(organisation=organisation, user=request.user, ip=client_ip(request))
    except services.DpaError as error:
        raise PermissionDenied(str(error)) from error
    messages.success(request, "Thank you: the data processing agreement is accepted.")
    return redirect(_safe_next(request, "/"))


@verified_required
@require_POST
def subprocessor_objection(request: HttpRequest, slug: str) -> HttpResponse:
    """An organisation's owner or admin objects to the current sub-processor register (Art. 28(2))."""
    organisation, role = _organisation(request, slug)
    if role not in ADMIN_ROLES:
        raise PermissionDenied("Only the organisation's owners and admins can object.")
    try:
        services.record_objection(
            organisation=organisation, user=request.user, reason=request.POST.get("reason", "")
        )
    except ValueError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Your objection is recorded. Our privacy team will contact you.")
    return redirect(_safe_next(request, "/"))


# --- Staff.


def staff_member_required(view: Any) -> Any:
    """Active staff with a verified second factor (GDPR Art. 32: 2FA for staff)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not (user.is_active and user.is_staff):
            raise PermissionDenied("Staff only.")
        if not getattr(user, "is_verified", lambda: False)():
            raise PermissionDenied("Staff need a verified second factor.")
        return view(request, *args, **kwargs)

    return login_required(wrapped)


@staff_member_required
def ropa_pdf(request: HttpRequest) -> HttpResponse:
    return _pdf_response(pdf.render_ropa(services.ropa_rows(), ROPA_FIELDS), "records-of-processing.pdf")


@staff_member_required
def dpia_pdf(request: HttpRequest) -> HttpResponse:
    from compliance.services.dpia import dpia_context

    return _pdf_response(pdf.render_dpia(dpia_context()), "dpia.pdf")


@staff_member_required
def ropa_csv(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(services.ropa_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="records-of-processing.csv"'
    return response


@staff_member_required
def staff_certificate_pdf(request: HttpRequest, certificate_id: str) -> HttpResponse:
    certificate = get_object_or_404(DeletionCertificate, pk=certificate_id)
    return _pdf_response(
        pdf.render_certificate(certificate), f"deletion-certificate-{certificate.reference}.pdf"
    )
