"""Who may see a job: its token holder, the browser session that created it, or its owner."""

from __future__ import annotations

import hmac
import uuid
from typing import Any

from django.http import HttpRequest

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


def _load(job_id: Any) -> PortraitJob | None:
    try:
        parsed = uuid.UUID(str(job_id))
    except ValueError:
        return None
    return PortraitJob.objects.select_related("results_key").filter(id=parsed).first()
