"""Web pages of the anonymous flow, and the site's error pages."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from compliance.models import ConsentKind
from compliance.services import current_document
from gpu_worker.errors import DEFAULT_MESSAGES, ErrorCode
from gpu_worker.styles import BUILTIN_STYLES
from portraits import archive, notify, services
from portraits.access import job_for_request, reference_for, remember_job, remember_reference
from portraits.api import (
    JOB_REJECTIONS,
    create_job_from_request,
    file_too_large_message,
    job_rejection,
    job_size_note,
)
from portraits.forms import ResultsEmailForm, UploadForm
from portraits.models import JobStatus, Portrait, PortraitJob, ResultsEmail
from portraits.payments.services import full_resolution_unlocked, purchase_panel
from proportrait.http import client_ip
from proportrait.outage import ServiceUnavailable

MISSING_PHOTO_MESSAGE = "Please choose a photo to upload."
# The words compliance.services.consent uses; the upload page's script shows the same ones.
CONSENT_BOX_MESSAGE = "Please tick the box to give your explicit consent to process your photo."
SIGNATURE_MESSAGE = "Please type your full name as your signature."

EXAMPLES = [
    ("corporate-grey", "Corporate grey"),
    ("studio-white", "Studio white"),
    ("warm-office", "Warm office"),
    ("creative-dark", "Creative dark"),
]


def landing(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portraits/landing.html",
        {"examples": EXAMPLES, "retention_hours": settings.PROPORTRAIT_ANONYMOUS_RETENTION_HOURS},
    )


# Which field an upload refusal belongs next to (None: the whole form, e.g. rate limits).
PHOTO_ERRORS = {
    "invalid_request",
    "unsupported_format",
    "file_too_large",
    "image_too_large",
    "corrupt_image",
    "no_face",
    "multiple_faces",
    "face_too_small",
}


def _error_field(code: str, data: Any) -> str | None:
    if code == "consent_required":
        ticked = str(data.get("consent", "")).lower() in {"true", "1", "on", "yes"}
        return "signature" if ticked and len(str(data.get("signature", "")).strip()) < 2 else "consent"
    if code in PHOTO_ERRORS:
        return "photo"
    return None


@never_cache
@sensitive_post_parameters("signature")
def upload(request: HttpRequest) -> HttpResponse:
    document = current_document(ConsentKind.BIOMETRIC)
    error: dict[str, Any] | None = None
    status = 200
    retry_after = ""
    if request.method == "POST":
        form = UploadForm(request.POST)
        if form.is_valid():
            try:
                created = create_job_from_request(
                    request,
                    request.POST,
                    request.FILES,
                    owner=request.user if request.user.is_authenticated else None,
                )
            except JOB_REJECTIONS as exc:
                code, message, status = job_rejection(exc, missing_photo_message=MISSING_PHOTO_MESSAGE)
                error = {"code": code, "message": message, "field": _error_field(code, request.POST)}
                if isinstance(exc, ServiceUnavailable):
                    retry_after = str(exc.retry_after_seconds)
            else:
                remember_job(request, created.job)
                response = redirect("portraits:job", job_id=created.job.id)
                remember_reference(response, created.job, created.token)
                return response
        else:
            error = {"code": "invalid_request", "message": "Please choose a style.", "field": "style"}
            status = 400
    else:
        form = UploadForm(initial={"consent_version": document.version, "style": "corporate-grey"})
    styles = list(BUILTIN_STYLES.values())
    selected_style = form["style"].value()
    context = {
        "form": form,
        "document": document,
        "styles": styles,
        "selected_style": selected_style if selected_style in BUILTIN_STYLES else "corporate-grey",
        "consent_ticked": str(form["consent"].value() or "").lower() in {"true", "1", "on", "yes"},
        "error": error,
        "max_upload_bytes": settings.PROPORTRAIT_MAX_UPLOAD_BYTES,
        "max_upload_mb": f"{settings.PROPORTRAIT_MAX_UPLOAD_BYTES / (1024 * 1024):g}",
        "client_messages": {
            "missing": MISSING_PHOTO_MESSAGE,
            "type": DEFAULT_MESSAGES[ErrorCode.UNSUPPORTED_FORMAT],
            "size": file_too_large_message(),
            "consent": CONSENT_BOX_MESSAGE,
            "signature": SIGNATURE_MESSAGE,
        },
        "retention_hours": settings.PROPORTRAIT_ANONYMOUS_RETENTION_HOURS,
        "deadman_minutes": settings.PROPORTRAIT_ORIGINAL_DEADMAN_MINUTES,
    }
    page = render(request, "portraits/upload.html", context, status=status)
    if retry_after:
        page["Retry-After"] = retry_after
    return page


def _visible_job(request: HttpRequest, job_id: Any) -> PortraitJob:
    job = job_for_request(request, job_id)
    if job is None:
        raise Http404
    return job


def _results_context(request: HttpRequest, job: PortraitJob, **extra: Any) -> dict[str, Any]:
    portraits: list[dict[str, Any]] = []
    if job.status == JobStatus.DONE:
        for portrait in job.portraits.all():
            number = portrait.variant + 1
            portraits.append(
                {
                    "number": number,
                    "width": portrait.width,
                    "height": portrait.height,
                    "preview_width": portrait.preview_width,
                    "preview_height": portrait.preview_height,
                    "preview_url": reverse("portraits:portrait", args=[job.id, number, "preview"]),
                    "full_url": reverse("portraits:portrait", args=[job.id, number, "full"]),
                }
            )
    entry = ResultsEmail.objects.filter(job=job).first() if job.status == JobStatus.DONE else None
    note = job_size_note(job, portraits[0]["width"], portraits[0]["height"]) if portraits else None
    panel = purchase_panel(job)
    return {
        "job": job,
        "portraits": portraits,
        "results_email": entry,
        "size_note": note,
        "purchase_panel": panel,
        "full_resolution_unlocked": panel["unlocked"],
        "email_form": extra.pop("email_form", None) or ResultsEmailForm(),
        "retention_hours": settings.PROPORTRAIT_ANONYMOUS_RETENTION_HOURS,
        **reference_for(request, job),
        **extra,
    }


@never_cache
def job_page(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _visible_job(request, job_id)
    return render(request, "portraits/job.html", _results_context(request, job))


def _not_bought(request: HttpRequest) -> HttpResponse:
    return _error_page(
        request,
        402,
        "Full resolution has not been bought",
        "The watermarked previews are free. Buy full resolution on the results page.",
    )


def _results_gone(request: HttpRequest, job: PortraitJob | None) -> HttpResponse:
    """An HTML page (never a file) for a download whose portraits no longer exist."""
    return render(request, "portraits/link_expired.html", {"job": job, "gone": True}, status=410)


@never_cache
def portrait_download(request: HttpRequest, job_id: str, number: int, kind: str) -> HttpResponse:
    """One portrait, authorised by the session or account that holds the job (no expiring link)."""
    job = _visible_job(request, job_id)
    if kind not in {"preview", "full"}:
        raise Http404
    if job.status != JobStatus.DONE:
        return _results_gone(request, job)
    portrait = job.portraits.filter(variant=number - 1).select_related("job__results_key").first()
    if portrait is None:
        raise Http404
    return _portrait_response(request, portrait, kind)


@never_cache
def download_all(request: HttpRequest, job_id: str) -> HttpResponse | StreamingHttpResponse:
    """All full-resolution portraits as one ZIP, streamed and decrypted in memory."""
    job = _visible_job(request, job_id)
    if job.status != JobStatus.DONE or job.results_key is None:
        return _results_gone(request, job)
    if not full_resolution_unlocked(job):
        return _not_bought(request)
    portraits = list(job.portraits.select_related("job__results_key"))
    response = StreamingHttpResponse(archive.stream_portraits_zip(portraits), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="proportrait-{str(job.id)[:8]}.zip"'
    response["Cache-Control"] = "private, no-store"
    return response


@never_cache
@require_POST
def email_results(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _visible_job(request, job_id)
    form = ResultsEmailForm(request.POST)
    if not form.is_valid():
        context = _results_context(request, job, email_form=form)
        return render(request, "portraits/job.html", context, status=400)
    try:
        notify.send_results_link(job, form.cleaned_data["email"])
    except notify.ResultsEmailRefused as refusal:
        form.add_error("email", str(refusal))
        context = _results_context(request, job, email_form=form)
        return render(request, "portraits/job.html", context, status=400)
    messages.success(
        request,
        "We have e-mailed you a link to your portraits. We keep your address only until they are deleted.",
    )
    return redirect(reverse("portraits:job", args=[job.id]) + "#email-results")


@never_cache
def open_results(request: HttpRequest, signed: str) -> HttpResponse:
    """The link from the results e-mail: this browser may see the job from now on."""
    job = notify.job_from_results_link(signed)
    if job is None:
        return render(request, "portraits/link_expired.html", {"job": None, "gone": True}, status=410)
    remember_job(request, job)
    return redirect("portraits:job", job_id=job.id)


@never_cache
def delete_job(request: HttpRequest, job_id: str) -> HttpResponse:
    """GET asks for confirmation (works without JavaScript); POST erases at once."""
    job = _visible_job(request, job_id)
    if request.method != "POST":
        return render(request, "portraits/confirm.html", {"job": job, "action": "delete"})
    actor = f"user:{request.user.pk}" if request.user.is_authenticated else "job_holder"
    receipt = services.erase_job(job, reason="holder_request", actor=actor)
    return render(
        request,
        "portraits/deleted.html",
        {"receipt": receipt, "job": job, **_what_we_keep(), **reference_for(request, job)},
    )


@never_cache
def withdraw_consent(request: HttpRequest, job_id: str) -> HttpResponse:
    """GET asks for confirmation (works without JavaScript); POST withdraws and erases."""
    from compliance.services import withdraw_consent as withdraw

    job = _visible_job(request, job_id)
    if request.method != "POST":
        return render(request, "portraits/confirm.html", {"job": job, "action": "withdraw"})
    actor = f"user:{request.user.pk}" if request.user.is_authenticated else "job_holder"
    withdraw(
        job_id=job.id,
        actor=actor,
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )
    job.refresh_from_db()
    return render(
        request,
        "portraits/deleted.html",
        {"job": job, "withdrawn": True, **_what_we_keep(), **reference_for(request, job)},
    )


def _what_we_keep() -> dict[str, int]:
    # The receipt states what stays and for how long, from the settings the purge jobs enforce.
    return {
        "erased_job_record_days": settings.PROPORTRAIT_ERASED_JOB_RECORD_DAYS,
        "consent_evidence_days": settings.PROPORTRAIT_CONSENT_EVIDENCE_DAYS,
        "audit_log_days": settings.COMPLIANCE_AUDIT_RETENTION_DAYS,
    }


def _portrait_response(request: HttpRequest, portrait: Portrait, kind: str) -> HttpResponse:
    if kind == "full" and not full_resolution_unlocked(portrait.job):
        return _not_bought(request)
    try:
        data = services.read_portrait_bytes(portrait, kind)
    except services.crypto.KeyDestroyed:
        raise Http404 from None
    if kind == "full":
        content_type = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}[portrait.full_format]
        extension = "jpg" if portrait.full_format == "jpeg" else portrait.full_format
    else:
        content_type, extension = "image/jpeg", "jpg"
    response = HttpResponse(data, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    disposition = "attachment" if kind == "full" else "inline"
    response["Content-Disposition"] = (
        f'{disposition}; filename="portrait-{portrait.variant + 1}-{kind}.{extension}"'
    )
    return response


def portrait_file(request: HttpRequest, signed: str) -> HttpResponse:
    """A signed link (API clients, e-mails). Expired or unknown: an HTML page saying what to do."""
    found = services.portrait_from_signed_value(signed)
    if found is None:
        return _expired_link(request, signed)
    portrait, kind = found
    try:
        return _portrait_response(request, portrait, kind)
    except Http404:
        return _results_gone(request, portrait.job)


def _expired_link(request: HttpRequest, signed: str) -> HttpResponse:
    job = None
    try:
        # Genuine but too old: find its job, so the page can send the person back to it.
        unsigned = signing.TimestampSigner(salt=services.SIGNING_SALT).unsign(signed)
    except signing.BadSignature:
        unsigned = ""
    portrait_id = unsigned.partition(":")[0]
    if portrait_id:
        portrait = Portrait.objects.select_related("job").filter(id=portrait_id).first()
        job = portrait.job if portrait is not None else None
    gone = job is None or job.status != JobStatus.DONE or job.expires_at <= timezone.now()
    context = {
        "job": job,
        "gone": gone,
        "link_minutes": max(1, settings.PROPORTRAIT_SIGNED_URL_SECONDS // 60),
    }
    return render(request, "portraits/link_expired.html", context, status=410)


# --- Error pages


def _error_page(request: HttpRequest, status: int, heading: str, message: str) -> HttpResponse:
    return render(request, "errors/error.html", {"heading": heading, "message": message}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(request, 400, "We could not read that request", "Please go back and try again.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(
        request,
        403,
        "You do not have access to this page",
        "If you think you should, log in or use the link you were given.",
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(
        request,
        404,
        "We could not find that page",
        "It may have been deleted, or its link may have expired. "
        "Portraits are deleted when their time is up.",
    )


def server_error(request: HttpRequest) -> HttpResponse:
    return _error_page(request, 500, "Something went wrong on our side", "Please try again in a minute.")
