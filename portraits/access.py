"""Who may see a job: its token holder, the browser session that created it, or its owner."""

from __future__ import annotations

import hmac
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from portraits.models import PortraitJob
from portraits.services import hash_token

SESSION_KEY = "portrait_jobs"
MAX_SESSION_JOBS = 20


def remember_job(request: HttpRequest, job: PortraitJob) -> None:
    jobs = [job_id for job_id in request.session.get(SESSION_KEY, []) if job_id != str(job.id)]
    request.session[SESSION_KEY] = [str(job.id), *jobs][:MAX_SESSION_JOBS]


def session_job_ids(request: HttpRequest) -> list[str]:
    return list(request.session.get(SESSION_KEY, []))


def job_for_token(job_id: Any, token: str | None) -> PortraitJob | None:
    job = _load(job_id)
    if job is None or not token:
        return None
    return job if hmac.compare_digest(job.token_hash, hash_token(token)) else None


def job_for_request(request: HttpRequest, job_id: Any) -> PortraitJob | None:
    """The job if this client may see it, else None (callers answer 404, never 403)."""
    job = _load(job_id)
    if job is None:
        return None
    token = request.headers.get("X-Job-Token")
    if token and hmac.compare_digest(job.token_hash, hash_token(token)):
        return job
    if str(job.id) in session_job_ids(request):
        return job
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and job.owner_id == user.pk:
        return job
    return None


# --- The private job reference: the job's bearer token, kept by the person, never by us.

REFERENCE_COOKIE_PREFIX = "job-ref-"


def reference_days() -> int:
    """How long the browser keeps showing the reference: the results' lifetime plus the emptied
    job record's, so that every receipt can show it."""
    hours = settings.PROPORTRAIT_ANONYMOUS_RETENTION_HOURS
    return max(1, -(-hours // 24)) + settings.PROPORTRAIT_ERASED_JOB_RECORD_DAYS


def remember_reference(response: HttpResponse, job: PortraitJob, token: str) -> None:
    """Give the browser that uploaded the job its reference to show on every page of the job.

    We store only the token's hash, so it lives in a cookie of this browser alone: readable by the
    server for /jobs/<id>/ pages only, never by scripts, never sent cross-site.
    """
    response.set_cookie(
        REFERENCE_COOKIE_PREFIX + str(job.id),
        token,
        max_age=reference_days() * 86400,
        path=f"/jobs/{job.id}/",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )


def reference_for(request: HttpRequest, job: PortraitJob) -> dict[str, Any]:
    """Template context with the job's reference when this browser holds the genuine one."""
    token = request.COOKIES.get(REFERENCE_COOKIE_PREFIX + str(job.id), "")
    if not token or not hmac.compare_digest(job.token_hash, hash_token(token)):
        return {}
    # The cookie was set when the job was made, for reference_days().
    until: datetime = job.created_at + timedelta(days=reference_days())
    return {"reference": token, "reference_until": until}


def job_for_reference(reference: str) -> PortraitJob | None:
    """The job whose private reference (bearer token) this is, or None; a job id proves nothing."""
    reference = (reference or "").strip()
    if not reference:
        return None
    return PortraitJob.objects.filter(token_hash=hash_token(reference)).first()


def _load(job_id: Any) -> PortraitJob | None:
    try:
        parsed = uuid.UUID(str(job_id))
    except ValueError:
        return None
    return PortraitJob.objects.select_related("results_key").filter(id=parsed).first()
