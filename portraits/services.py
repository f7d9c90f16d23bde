"""Every write of the portraits app: create a job, finish it, destroy its original, erase it."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from compliance.audit import record_event
from compliance.models import ConsentSubjectType
from compliance.services import (
    ConsentAct,
    ErasureReport,
    Subject,
    check_biometric_consent,
    record_biometric_consent,
)
from gpu_worker.decode import inspect_upload
from gpu_worker.errors import ErrorCode
from gpu_worker.schemas import Backend, GenerationResult, InputLimits, Style
from gpu_worker.styles import get_style, style_from_dict, style_to_dict
from portraits import crypto, storage
from portraits.models import DataKey, DataKeyPurpose, JobStatus, Portrait, PortraitJob

logger = logging.getLogger(__name__)

SIGNING_SALT = "portraits.download"


class RateLimited(Exception):
    """Too many uploads from one client in the current window."""


class UnknownStyle(ValueError):
    """The style slug names no style."""

    def __str__(self) -> str:
        from gpu_worker.styles import BUILTIN_STYLES

        return f"Unknown style. Choose one of: {', '.join(BUILTIN_STYLES)}."


@dataclass(frozen=True)
class ClientInfo:
    ip: str | None = None
    user_agent: str = ""


@dataclass(frozen=True)
class CreatedJob:
    job: PortraitJob
    token: str  # shown once; only its hash is stored


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def input_limits() -> InputLimits:
    return InputLimits(
        max_bytes=settings.PROPORTRAIT_MAX_UPLOAD_BYTES, max_pixels=settings.PROPORTRAIT_MAX_IMAGE_PIXELS
    )


def anonymous_retention() -> timedelta:
    return timedelta(hours=settings.PROPORTRAIT_ANONYMOUS_RETENTION_HOURS)


def account_retention() -> timedelta:
    return timedelta(days=settings.PROPORTRAIT_ACCOUNT_RETENTION_DAYS)


def original_object_key(job_id: Any) -> str:
    return f"originals/{job_id}.bin"


def result_object_key(job_id: Any, variant: int, kind: str) -> str:
    return f"results/{job_id}/{variant}-{kind}.bin"


def create_job(
    *,
    photo: bytes,
    consent: ConsentAct,
    client: ClientInfo,
    style_slug: str | None = None,
    style: Style | None = None,
    owner: Any = None,
    retention: timedelta | None = None,
    consent_subject_type: ConsentSubjectType = ConsentSubjectType.ANONYMOUS_JOB,
    consent_subject_id: str | None = None,
    check_rate_limit: bool = True,
) -> CreatedJob:
    """Validate, check consent, encrypt and store the original, record consent, queue generation.

    Nothing is stored unless every check passes. Raises gpu_worker InputError (bad photo),
    compliance ConsentError (no valid consent act), UnknownStyle or RateLimited.
    """
    from portraits import ratelimit  # local: keeps the cache out of import time

    # 1. Checks that store nothing: rate limit first (decoding costs CPU), photo, style, consent.
    if check_rate_limit and not ratelimit.allow_upload(client.ip):
        raise RateLimited()
    info = inspect_upload(photo, input_limits())
    if style is None:
        try:
            style = get_style(style_slug or "")
        except ValueError:
            raise UnknownStyle() from None
    check_biometric_consent(consent)

    # 2. Encrypt under a fresh data key; only ciphertext reaches storage.
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    job = PortraitJob(
        token_hash=hash_token(token),
        owner=owner,
        style_slug=style.slug,
        style_spec=style_to_dict(style),
        backend=settings.PROPORTRAIT_BACKEND,
        variants=settings.PROPORTRAIT_PORTRAITS_PER_JOB,
        seed=secrets.randbelow(2**31),
        expires_at=now + (retention or (account_retention() if owner else anonymous_retention())),
    )
    data_key, raw_key = crypto.create_data_key(DataKeyPurpose.ORIGINAL)
    ciphertext = crypto.encrypt(raw_key, photo, associated_data=str(job.id).encode())
    del raw_key
    key = storage.put_object(original_object_key(job.id), ciphertext)
    job.original_storage_key = key
    job.original_key = data_key
    job.original_ciphertext_sha256 = hashlib.sha256(ciphertext).hexdigest()

    # 3. Job, consent record and audit trail in one transaction; the task is queued after commit.
    try:
        with transaction.atomic():
            job.save()
            record = record_biometric_consent(
                consent,
                subject_type=consent_subject_type,
                subject_id=consent_subject_id or str(job.id),
                job_id=job.id,
                user=owner,
            )
            record_event(
                "photo.received",
                actor=_actor(owner),
                object_type="portrait_job",
                object_id=str(job.id),
                data={
                    "format": info.format,
                    "ciphertext_sha256": job.original_ciphertext_sha256,
                    "data_key": str(data_key.id),
                    "consent_record": str(record.id),
                    "style": style.slug,
                },
            )
            transaction.on_commit(lambda: enqueue_generation(job))
    except Exception:
        # The job never existed: destroy what was written before the transaction.
        storage.delete_object(key)
        crypto.destroy_data_key(data_key)
        raise
    return CreatedJob(job=job, token=token)


def enqueue_generation(job: PortraitJob) -> None:
    from gpu_worker.tasks import generate_portraits

    generate_portraits.apply_async(args=[str(job.id)], queue="gpu")
    record_event("job.queued", actor="system", object_type="portrait_job", object_id=str(job.id))


def _actor(owner: Any) -> str:
    return f"user:{owner.pk}" if owner is not None else "anonymous"


# --- Worker side (called through portraits.gateway)


def claim_job(job_id: str) -> PortraitJob | None:
    """Move a queued job to processing; exactly one worker wins."""
    claimed = PortraitJob.objects.filter(
        id=job_id, status=JobStatus.QUEUED, original_deleted_at__isnull=True
    ).update(status=JobStatus.PROCESSING, started_at=timezone.now(), progress=1, stage="starting")
    if claimed != 1:
        return None
    record_event("job.processing_started", actor="worker", object_type="portrait_job", object_id=job_id)
    return PortraitJob.objects.select_related("original_key").get(id=job_id)


def read_original(job: PortraitJob) -> bytes:
    """Decrypt the original in memory, for the generator only."""
    if job.original_key is None or job.original_deleted_at is not None:
        raise crypto.KeyDestroyed(f"original of job {job.id} is gone")
    raw_key = crypto.unwrap_data_key(job.original_key)
    return crypto.decrypt(raw_key, storage.get_object(job.original_storage_key), str(job.id).encode())


def job_style(job: PortraitJob) -> Style:
    return style_from_dict(job.style_spec)


def job_backend(job: PortraitJob) -> Backend:
    return Backend(job.backend)


def report_progress(job_id: str, percent: int, stage: str) -> None:
    PortraitJob.objects.filter(id=job_id, status=JobStatus.PROCESSING, progress__lt=percent).update(
        progress=percent, stage=stage[:40]
    )


def complete_job(job_id: str, result: GenerationResult) -> bool:
    """Encrypt and store the portraits, then mark the job done. False if the job was erased meanwhile.

    The results key is recorded on the job before the first object is written, so whatever
    happens next (an error, a killed worker, an erasure) the key and the `results/<job>/`
    objects can be found and destroyed by `erase_job` or the sweeper.
    """
    data_key, raw_key = crypto.create_data_key(DataKeyPurpose.RESULTS)
    if not PortraitJob.objects.filter(id=job_id, status=JobStatus.PROCESSING).update(results_key=data_key):
        crypto.destroy_data_key(data_key)
        return False
    job = PortraitJob.objects.get(id=job_id)
    rows: list[Portrait] = []
    try:
        for image in result.portraits:
            full_key = result_object_key(job.id, image.variant, "full")
            preview_key = result_object_key(job.id, image.variant, "preview")
            aad = f"{job.id}:{image.variant}".encode()
            storage.put_object(full_key, crypto.encrypt(raw_key, image.full, aad + b":full"))
            storage.put_object(preview_key, crypto.encrypt(raw_key, image.preview, aad + b":preview"))
            rows.append(
                Portrait(
                    job=job,
                    variant=image.variant,
                    width=image.width,
                    height=image.height,
                    full_format=image.full_format.value,
                    full_storage_key=full_key,
                    preview_storage_key=preview_key,
                    preview_width=image.preview_width,
                    preview_height=image.preview_height,
                )
            )
        with transaction.atomic():
            updated = PortraitJob.objects.filter(id=job.id, status=JobStatus.PROCESSING).update(
                status=JobStatus.DONE, progress=100, stage="done", finished_at=timezone.now()
            )
            if updated != 1:
                raise _JobGone()
            Portrait.objects.bulk_create(rows)
            record_event(
                "job.completed",
                actor="worker",
                object_type="portrait_job",
                object_id=str(job.id),
                data={
                    "portraits": len(rows),
                    "results_key": str(data_key.id),
                    "backend": result.backend.value,
                },
            )
    except _JobGone:
        discard_partial_results(job)
        return False
    except BaseException:
        discard_partial_results(job)
        raise
    return True


class _JobGone(Exception):
    pass


def discard_partial_results(job: PortraitJob) -> int:
    """Delete every object under the job's results prefix and shred its results key.

    For results that were never published (storing failed, or the job ended meanwhile);
    returns the number of objects deleted.
    """
    deleted = storage.delete_prefix(f"results/{job.id}/")
    job.refresh_from_db(fields=["results_key"])
    if job.results_key is not None:
        crypto.destroy_data_key(job.results_key)
    return deleted


def fail_job(job_id: str, code: str, message: str) -> None:
    updated = PortraitJob.objects.filter(
        id=job_id, status__in=[JobStatus.QUEUED, JobStatus.PROCESSING]
    ).update(
        status=JobStatus.FAILED,
        error_code=code,
        error_message=message[:300],
        finished_at=timezone.now(),
        stage="failed",
    )
    if updated:
        record_event(
            "job.failed",
            actor="worker",
            object_type="portrait_job",
            object_id=job_id,
            data={"error_code": code},
        )


def destroy_original(job: PortraitJob, *, reason: str = "job_ended") -> bool:
    """Delete the encrypted original and wipe its data key (crypto-shredding). Idempotent.

    Returns True when this call destroyed something.
    """
    job.refresh_from_db(fields=["original_storage_key", "original_key", "original_deleted_at"])
    deleted_object = storage.delete_object(job.original_storage_key) if job.original_storage_key else False
    shredded = crypto.destroy_data_key(job.original_key) if job.original_key is not None else False
    now = timezone.now()
    marked = PortraitJob.objects.filter(id=job.id, original_deleted_at__isnull=True).update(
        original_deleted_at=now
    )
    if marked or deleted_object or shredded:
        record_event(
            "original.destroyed",
            actor="system",
            object_type="portrait_job",
            object_id=str(job.id),
            data={
                "reason": reason,
                "object_deleted": deleted_object,
                "data_key": str(job.original_key_id) if job.original_key_id else "",
                "data_key_shredded": shredded,
                "ciphertext_sha256": job.original_ciphertext_sha256,
            },
        )
    job.refresh_from_db(fields=["original_deleted_at"])
    return bool(marked or deleted_object or shredded)


def destroy_stale_originals(now: Any = None) -> int:
    """The dead-man sweeper: destroy every original older than the limit, whatever its job's state.

    A job still queued or processing at that point has lost its worker: it is failed, not
    retried, and anything it had started to store is destroyed with its key. Returns the number
    of originals and orphaned keys destroyed.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.PROPORTRAIT_ORIGINAL_DEADMAN_MINUTES)
    timed_out = "Processing took too long and was stopped. Your photo was deleted; please try again."
    destroyed = 0
    stale = PortraitJob.objects.filter(created_at__lt=cutoff).filter(
        Q(original_deleted_at__isnull=True) | Q(status__in=[JobStatus.QUEUED, JobStatus.PROCESSING])
    )
    for job in stale.iterator():
        was_running = job.status in {JobStatus.QUEUED, JobStatus.PROCESSING}
        fail_job(str(job.id), ErrorCode.GENERATION_FAILED.value, timed_out)
        destroyed += destroy_original(job, reason="deadman_sweeper")
        if was_running:
            discard_partial_results(job)
    # Keys whose job never pointed at them (a crash between creating the key and saving the job).
    referenced = PortraitJob.objects.filter(Q(original_key__isnull=False) | Q(results_key__isnull=False))
    orphans = (
        DataKey.objects.filter(
            purpose__in=[DataKeyPurpose.ORIGINAL, DataKeyPurpose.RESULTS],
            destroyed_at__isnull=True,
            created_at__lt=cutoff,
        )
        .exclude(id__in=referenced.values("original_key"))
        .exclude(id__in=referenced.values("results_key"))
    )
    for data_key in orphans:
        crypto.destroy_data_key(data_key)
        record_event(
            "data_key.orphan_shredded",
            actor="system",
            object_type="data_key",
            object_id=str(data_key.id),
            data={"purpose": data_key.purpose},
        )
        destroyed += 1
    return destroyed


# --- Results: reading, signed URLs, erasure


def read_portrait_bytes(portrait: Portrait, kind: str) -> bytes:
    """Decrypt a portrait ('preview' or 'full') in memory."""
    if kind not in {"preview", "full"}:
        raise ValueError("kind must be 'preview' or 'full'")
    job = portrait.job
    if job.results_key is None:
        raise crypto.KeyDestroyed(f"results of job {job.id} are gone")
    raw_key = crypto.unwrap_data_key(job.results_key)
    object_key = portrait.full_storage_key if kind == "full" else portrait.preview_storage_key
    aad = f"{job.id}:{portrait.variant}:{kind}".encode()
    return crypto.decrypt(raw_key, storage.get_object(object_key), aad)


def signed_portrait_url(portrait: Portrait, kind: str) -> str:
    """A short-lived link (PROPORTRAIT_SIGNED_URL_SECONDS) to one decrypted portrait."""
    value = signing.TimestampSigner(salt=SIGNING_SALT).sign(f"{portrait.id}:{kind}")
    return reverse("portraits:file", args=[value])


def portrait_from_signed_value(value: str) -> tuple[Portrait, str] | None:
    try:
        unsigned = signing.TimestampSigner(salt=SIGNING_SALT).unsign(
            value, max_age=settings.PROPORTRAIT_SIGNED_URL_SECONDS
        )
    except signing.BadSignature:
        return None
    portrait_id, _, kind = unsigned.partition(":")
    portrait = (
        Portrait.objects.select_related("job", "job__results_key")
        .filter(id=portrait_id, job__status=JobStatus.DONE)
        .first()
    )
    if portrait is None or kind not in {"preview", "full"}:
        return None
    return portrait, kind


@dataclass
class ErasureReceipt:
    job_id: str
    erased_at: Any
    portraits_deleted: int
    objects_deleted: int
    keys_shredded: list[str] = field(default_factory=list)
    audit_hash: str = ""


def erase_job(job: PortraitJob, *, reason: str, actor: str) -> ErasureReceipt:
    """Erase everything of a job at once: portraits, objects, keys; the queued task finds nothing to claim."""
    with transaction.atomic():
        job = PortraitJob.objects.select_for_update().get(pk=job.pk)
        previous_status = job.status
        PortraitJob.objects.filter(pk=job.pk).update(
            status=JobStatus.DELETED, deleted_at=timezone.now(), progress=0, stage="deleted"
        )
        # What stays of the job is an emptied record (id, status, dates, the token's hash so that
        # its holder still sees "deleted"), deleted after ERASED_JOB_RECORD_DAYS. The generation
        # seed, the style it was made with and the original's hash and storage key go now.
        PortraitJob.objects.filter(pk=job.pk).update(
            seed=0, style_spec={}, original_ciphertext_sha256="", error_message=""
        )
    destroy_original(job, reason=f"erase:{reason}")
    portraits = list(job.portraits.all())
    # Everything under the job's prefix goes, also objects of results that were never published.
    objects = storage.delete_prefix(f"results/{job.id}/")
    shredded: list[str] = []
    job.refresh_from_db()
    for data_key in (job.original_key, job.results_key):
        if data_key is not None:
            crypto.destroy_data_key(data_key)
            shredded.append(str(data_key.id))
    count = len(portraits)
    job.portraits.all().delete()
    event = record_event(
        "job.erased",
        actor=actor,
        object_type="portrait_job",
        object_id=str(job.id),
        data={
            "reason": reason,
            "previous_status": previous_status,
            "portraits_deleted": count,
            "objects_deleted": objects,
            "keys_shredded": shredded,
        },
    )
    return ErasureReceipt(
        job_id=str(job.id),
        erased_at=event.occurred_at,
        portraits_deleted=count,
        objects_deleted=objects,
        keys_shredded=shredded,
        audit_hash=event.hash,
    )


def delete_erased_job_records(now: Any = None) -> int:
    """Delete the emptied records of jobs erased more than PROPORTRAIT_ERASED_JOB_RECORD_DAYS ago.

    Until then a link or a queued task finds the job "deleted" instead of "not found"; the
    public retention schedule states the period (compliance.services.retention)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.PROPORTRAIT_ERASED_JOB_RECORD_DAYS)
    deleted, _ = PortraitJob.objects.filter(status=JobStatus.DELETED, deleted_at__lt=cutoff).delete()
    return int(deleted)


def purge_expired_results(now: Any = None) -> int:
    """Scheduled: erase every job whose retention has run out, and delete old emptied job records."""
    now = now or timezone.now()
    delete_erased_job_records(now)
    expired = PortraitJob.objects.filter(expires_at__lte=now).exclude(status=JobStatus.DELETED)
    count = 0
    for job in expired.iterator():
        if job.status in {JobStatus.QUEUED, JobStatus.PROCESSING}:
            continue  # the sweeper ends those first
        erase_job(job, reason="retention_expired", actor="system:purge")
        count += 1
    return count


def erase_subject_portraits(subject: Subject) -> ErasureReport:
    """The portraits app's eraser for the compliance cascade (DSAR, withdrawal, account deletion)."""
    erased = portraits = objects = 0
    for job in _subject_jobs(subject):
        receipt = erase_job(job, reason="subject_erasure", actor="system:compliance")
        erased += 1
        portraits += receipt.portraits_deleted
        objects += receipt.objects_deleted
    # Detach the job rows from the person: they keep only ids and statuses.
    if subject.user_id is not None:
        PortraitJob.objects.filter(owner_id=subject.user_id).update(owner=None)
    days = settings.PROPORTRAIT_ERASED_JOB_RECORD_DAYS
    return ErasureReport(
        app="portraits",
        categories={"portrait_jobs": erased, "portraits": portraits, "storage_objects": objects},
        systems=("database", "object_storage", "data_keys", "task_queue"),
        notes="Queued generation tasks find the job erased and do nothing; data keys are crypto-shredded.",
        remains=(
            f"{erased} emptied job record(s): the job id, status 'deleted', dates and a hash of the job "
            f"token, so that a link or queued task finds the job deleted; deleted after {days} days. "
            "The photo, portraits, their keys, the seed and the style are gone."
            if erased
            else ""
        ),
    )


def _subject_jobs(subject: Subject) -> Any:
    jobs = PortraitJob.objects.none()
    if subject.job_ids:
        jobs = jobs | PortraitJob.objects.filter(id__in=list(subject.job_ids))
    if subject.user_id is not None:
        jobs = jobs | PortraitJob.objects.filter(owner_id=subject.user_id)
    return jobs.distinct().select_related("results_key").prefetch_related("portraits")


def export_subject_portraits(subject: Subject) -> Any:
    """The portraits app's part of an access or portability export: job facts and the portraits.

    The original photo is never exported: it no longer exists once a job has ended.
    """
    from compliance.services import ExportPart

    jobs_data: list[dict[str, Any]] = []
    files: dict[str, bytes] = {}
    for job in _subject_jobs(subject):
        entry: dict[str, Any] = {
            "id": str(job.id),
            "status": job.status,
            "style": job.style_slug,
            "created_at": job.created_at.isoformat(),
            "expires_at": job.expires_at.isoformat(),
            "original_deleted_at": job.original_deleted_at.isoformat() if job.original_deleted_at else None,
            "portraits": [],
        }
        if job.status == JobStatus.DONE:
            for portrait in job.portraits.all():
                extension = "jpg" if portrait.full_format == "jpeg" else portrait.full_format
                path = f"portraits/{job.id}/portrait-{portrait.variant + 1}.{extension}"
                try:
                    files[path] = read_portrait_bytes(portrait, "full")
                except crypto.KeyDestroyed:
                    continue
                entry["portraits"].append(
                    {"id": str(portrait.id), "file": path, "width": portrait.width, "height": portrait.height}
                )
        jobs_data.append(entry)
    return ExportPart(json_data={"portrait_jobs": jobs_data}, files=files)
