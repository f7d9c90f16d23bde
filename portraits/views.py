"""Web pages of the anonymous flow, and the site's error pages."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from compliance.models import ConsentKind
from compliance.services import current_document
from gpu_worker.styles import BUILTIN_STYLES
from portraits import services
from portraits.access import job_for_request, reference_for, remember_job, remember_reference
from portraits.api import JOB_REJECTIONS, create_job_from_request, job_payload, job_rejection
from portraits.forms import UploadForm
from proportrait.http import client_ip

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


@never_cache
@sensitive_post_parameters("signature")
def upload(request: HttpRequest) -> HttpResponse:
    document = current_document(ConsentKind.BIOMETRIC)
    error: dict[str, str] | None = None
    status = 200
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
                code, message, status = job_rejection(
                    exc, missing_photo_message="Please choose a photo to upload."
                )
                error = {"code": code, "message": message}
            else:
                remember_job(request, created.job)
                response = redirect("portraits:job", job_id=created.job.id)
                remember_reference(response, created.job, created.token)
                return response
        else:
            error = {"code": "invalid_request", "message": "Please choose a style and try again."}
            status = 400
    else:
        form = UploadForm(initial={"consent_version": document.version, "style": "corporate-grey"})
    styles = list(BUILTIN_STYLES.values())
    context = {
        "form": form,
        "document": document,
        "styles": styles,
        "selected_style": form["style"].value() or "corporate-grey",
        "error": error,
        "max_upload_mb": settings.PROPORTRAIT_MAX_UPLOAD_BYTES // (1024 * 1024),
        "retention_hours": settings.PROPORTRAIT_ANONYMOUS_RETENTION_HOURS,
        "deadman_minutes": settings.PROPORTRAIT_ORIGINAL_DEADMAN_MINUTES,
    }
    return render(request, "portraits/upload.html", context, status=status)


@never_cache
def job_page(request: HttpRequest, job_id: str) -> HttpResponse:
    job = job_for_request(request, job_id)
    if job is None:
        raise Http404
    return render(
        request,
        "portraits/job.html",
        {"job": job, "payload": job_payload(request, job), **reference_for(request, job)},
    )


@require_POST
def delete_job(request: HttpRequest, job_id: str) -> HttpResponse:
    job = job_for_request(request, job_id)
    if job is None:
        raise Http404
    actor = f"user:{request.user.pk}" if request.user.is_authenticated else "job_holder"
    receipt = services.erase_job(job, reason="holder_request", actor=actor)
    return render(
        request,
        "portraits/deleted.html",
        {"receipt": receipt, "job": job, **_what_we_keep(), **reference_for(request, job)},
    )


@require_POST
def withdraw_consent(request: HttpRequest, job_id: str) -> HttpResponse:
    from compliance.services import withdraw_consent as withdraw

    job = job_for_request(request, job_id)
    if job is None:
        raise Http404
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


def portrait_file(request: HttpRequest, signed: str) -> HttpResponse:
    found = services.portrait_from_signed_value(signed)
    if found is None:
        raise Http404
    portrait, kind = found
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
