"""Every write of the portraits app: create a job, finish it, destroy its original, erase it."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
import shutil
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import KombuError

from compliance.audit import record_event
from compliance.models import ConsentSubjectType
from compliance.services import (
    ConsentAct,
    check_biometric_consent,
    record_biometric_consent,
)
from gpu_worker.decode import inspect_upload
from gpu_worker.errors import ErrorCode
from gpu_worker.framing import check_photo_size
from gpu_worker.schemas import Backend, GenerationResult, InputLimits, Style
from gpu_worker.styles import get_style, style_from_dict, style_to_dict
from portraits import crypto, notify, storage
from portraits.faults import DiskSpaceLow, ServiceUnavailable, is_transient
from portraits.models import WAITING_STATUSES, DataKey, DataKeyPurpose, JobStatus, Portrait, PortraitJob

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

    Nothing is kept unless every check passes and every write succeeds. Raises gpu_worker
    InputError (bad photo), compliance ConsentError (no valid consent act), UnknownStyle,
    RateLimited, or ServiceUnavailable (the disk is nearly full, or storage or the database is
    down: the upload was not accepted and nothing of it remains).
    """
    from portraits import ratelimit  # local: keeps the cache out of import time

    # 1. Checks that store nothing: disk space, rate limit (decoding costs CPU), photo, style, consent.
    check_disk_space()
    if check_rate_limit and not ratelimit.allow_upload(client.ip):
        raise RateLimited()
    info = inspect_upload(photo, input_limits())
    if style is None:
        try:
            style = get_style(style_slug or "")
        except ValueError:
            raise UnknownStyle() from None
    document = check_biometric_consent(consent)
    check_photo_size(info.width, info.height, style)

    # 2. Encrypt under a fresh data key; only ciphertext reaches storage. The key is not saved
    #    yet: if this process dies before step 3 commits, the object can never be decrypted,
    #    and the storage sweep (`portraits.sweeper`) deletes it within the dead-man limit.
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    job = PortraitJob(
        token_hash=hash_token(token),
        owner=owner,
        style_slug=style.slug,
        style_spec=style_to_dict(style),
        # What was configured here; the worker that runs the job records the backend it used.
        backend=settings.PROPORTRAIT_BACKEND,
        variants=settings.PROPORTRAIT_PORTRAITS_PER_JOB,
        seed=secrets.randbelow(2**31),
        expires_at=now + (retention or (account_retention() if owner else anonymous_retention())),
        next_attempt_at=now + timedelta(seconds=settings.PROPORTRAIT_REPUBLISH_SECONDS),
    )
    data_key, raw_key = crypto.new_data_key(DataKeyPurpose.ORIGINAL)
    ciphertext = crypto.encrypt(raw_key, photo, associated_data=str(job.id).encode())
    del raw_key
    key = original_object_key(job.id)
    job.original_storage_key = key
    job.original_ciphertext_sha256 = hashlib.sha256(ciphertext).hexdigest()
    try:
        storage.put_object(key, ciphertext)
    except storage.StorageUnavailable as error:
        _delete_quietly(key)
        crypto.forget_unsaved_key(data_key)
        raise ServiceUnavailable("storage") from error

    # 3. One write transaction: data key, job, consent record and audit trail. The job row is
    #    also the outbox: the task is published after commit, and if that fails (broker down)
    #    the relay publishes it from the database (`next_attempt_at`), so the job still runs.
    try:
        with transaction.atomic():
            store_original_key(job, data_key)
            job.save(force_insert=True)
            record = record_biometric_consent(
                consent,
                subject_type=consent_subject_type,
                subject_id=consent_subject_id or str(job.id),
                job_id=job.id,
                user=owner,
                document=document,
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
            # Queued in the outbox (this row); the broker gets it after commit, or the relay later.
            record_event("job.queued", actor="system", object_type="portrait_job", object_id=str(job.id))
            transaction.on_commit(lambda: publish_generation(job))
    except BaseException as error:
        # The job never existed: nothing of the transaction was kept; delete the object and
        # drop the volatile key (which would otherwise end at its time-to-live).
        _delete_quietly(key)
        crypto.forget_unsaved_key(data_key)
        if is_transient(error):
            raise ServiceUnavailable("database") from error
        raise
    return CreatedJob(job=job, token=token)


def store_original_key(job: PortraitJob, data_key: DataKey) -> None:
    """Keep the original's data key with the job (inside create_job's transaction)."""
    data_key.save(force_insert=True)
    job.original_key = data_key


def load_original_key(job: PortraitJob) -> bytes:
    """The original's raw data key, for decrypting it in memory. Raises KeyDestroyed when gone."""
    if job.original_key is None or job.original_deleted_at is not None:
        raise crypto.KeyDestroyed(f"original of job {job.id} is gone")
    return crypto.unwrap_data_key(job.original_key)


def _delete_quietly(key: str) -> None:
    # Best effort while already failing; the storage sweep removes whatever stays behind.
    try:
        storage.delete_object(key)
    except Exception:
        logger.warning("could not delete %s now; the storage sweep will", key)


def check_disk_space() -> None:
    """Refuse before accepting anything when a local folder the upload needs is nearly full.

    Only the embedded default writes locally (SQLite, the filesystem broker, the ciphertext
    folder); a full disk there must mean a clean "try again later", not a half-written upload.
    """
    minimum_bytes = settings.PROPORTRAIT_MIN_FREE_DISK_MB * 1024 * 1024
    if minimum_bytes <= 0:
        return
    for folder in local_data_folders():
        try:
            free_bytes = shutil.disk_usage(folder).free
        except OSError:
            continue
        if free_bytes < minimum_bytes:
            logger.error(
                "free disk space under %s MB at %s: refusing uploads", minimum_bytes // 2**20, folder
            )
            raise DiskSpaceLow()


def local_data_folders() -> list[Path]:
    folders: list[Path] = []
    database = settings.DATABASES["default"]
    if str(database["ENGINE"]).endswith("sqlite3"):
        folders.append(Path(str(database["NAME"])).parent)
    if str(settings.CELERY_BROKER_URL).startswith("filesystem://"):
        folders.append(Path(settings.CELERY_BROKER_DIR))
    location = getattr(storage.private_storage(), "location", None)
    if location:
        folders.append(Path(location))
    return [folder for folder in folders if folder.exists()]


def publish_generation(job: PortraitJob) -> bool:
    """Hand the job's task to the broker. False (and logged) when the broker is unreachable:
    the job stays in the outbox and the relay publishes it later."""
    from gpu_worker.tasks import generate_portraits

    try:
        generate_portraits.apply_async(args=[str(job.id)], queue=settings.PROPORTRAIT_GENERATION_QUEUE)
    except Exception as error:
        if not (is_transient(error) or isinstance(error, KombuError)):
            raise
        logger.warning(
            "job %s: broker unavailable (%s); the relay will publish it", job.id, type(error).__name__
        )
        return False
    return True


def _actor(owner: Any) -> str:
    return f"user:{owner.pk}" if owner is not None else "anonymous"


# --- Worker side (called through portraits.gateway)


def claim_job(job_id: str, backend: str | None = None) -> PortraitJob | None:
    """Move a queued (or retrying) job to processing; exactly one worker wins.

    `backend` is the one this worker runs (its PROPORTRAIT_BACKEND): it is recorded on the
    job, so what runs is what is stored and audited.
    """
    backend = backend or settings.PROPORTRAIT_BACKEND
    claimed = PortraitJob.objects.filter(
        id=job_id, status__in=[JobStatus.QUEUED, JobStatus.RETRYING], original_deleted_at__isnull=True
    ).update(
        status=JobStatus.PROCESSING,
        started_at=timezone.now(),
        progress=1,
        stage="starting",
        backend=backend,
        attempts=F("attempts") + 1,
        next_attempt_at=None,
    )
    if claimed != 1:
        return None
    job = PortraitJob.objects.select_related("original_key").get(id=job_id)
    record_event(
        "job.processing_started",
        actor="worker",
        object_type="portrait_job",
        object_id=job_id,
        data={"backend": backend, "attempt": job.attempts},
    )
    return job


def read_original(job: PortraitJob) -> bytes:
    """Decrypt the original in memory, for the generator only."""
    raw_key = load_original_key(job)
    return crypto.decrypt(raw_key, storage.get_object(job.original_storage_key), str(job.id).encode())


def retry_delay_seconds(attempt: int) -> int:
    """Exponential backoff: base, 2x base, 4x base ... capped at two minutes."""
    base = max(1, settings.PROPORTRAIT_RETRY_BACKOFF_SECONDS)
    return int(min(120, base * 2 ** max(0, attempt - 1)))


def original_deadline(job: PortraitJob) -> Any:
    """When the sweeper destroys the job's original, whatever happens (limit minus one period)."""
    return job.created_at + deadman_age()


def defer_job(job_id: str, reason: str) -> int | None:
    """A transient fault interrupted the job: put it back as "retrying", keeping its original.

    Partial results are discarded. Returns the delay in seconds before the next attempt, or None
    when that attempt could not start before the dead-man limit (the caller then fails the job).
    """
    job = PortraitJob.objects.filter(id=job_id).first()
    if job is None or job.status != JobStatus.PROCESSING:
        return None
    delay = retry_delay_seconds(job.attempts)
    now = timezone.now()
    if now + timedelta(seconds=delay) >= original_deadline(job):
        return None
    # Should storage be down, the key is shredded all the same: the objects are unreadable and
    # go with the job's erasure.
    with contextlib.suppress(storage.StorageUnavailable):
        discard_partial_results(job)
    updated = PortraitJob.objects.filter(id=job_id, status=JobStatus.PROCESSING).update(
        status=JobStatus.RETRYING,
        stage="retrying",
        progress=0,
        results_key=None,
        next_attempt_at=now + timedelta(seconds=delay),
    )
    if not updated:
        return None
    record_event(
        "job.retry_scheduled",
        actor="worker",
        object_type="portrait_job",
        object_id=job_id,
        data={"reason": reason[:60], "attempt": job.attempts, "delay_seconds": delay},
    )
    return delay


def job_style(job: PortraitJob) -> Style:
    return style_from_dict(job.style_spec)


def job_backend(job: PortraitJob) -> Backend:
    """The backend the job runs on: the one recorded when this worker claimed it."""
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
                status=JobStatus.DONE,
                progress=100,
                stage="done",
                finished_at=timezone.now(),
                backend=result.backend.value,
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
    returns the number of objects deleted. The key is shredded first: when storage itself is
    what failed, deleting the objects fails too, and they must be unreadable all the same.
    """
    job.refresh_from_db(fields=["results_key"])
    if job.results_key is not None:
        crypto.destroy_data_key(job.results_key)
    return storage.delete_prefix(f"results/{job.id}/")


def fail_job(job_id: str, code: str, message: str) -> None:
    updated = PortraitJob.objects.filter(id=job_id, status__in=WAITING_STATUSES).update(
        status=JobStatus.FAILED,
        next_attempt_at=None,
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
    """Wipe the original's data key (crypto-shredding) and delete the encrypted object. Idempotent.

    The key goes first: from then on no copy of the object can be read. Should storage be down,
    the object's deletion is left to the storage sweep (`portraits.sweeper`), which deletes
    every object under `originals/` whose job is marked destroyed. Returns True when this call
    destroyed something.
    """
    job.refresh_from_db(fields=["original_storage_key", "original_key", "original_deleted_at"])
    shredded = crypto.destroy_data_key(job.original_key) if job.original_key is not None else False
    try:
        deleted_object = (
            storage.delete_object(job.original_storage_key) if job.original_storage_key else False
        )
    except storage.StorageUnavailable:
        logger.warning("job %s: original object not deleted now (storage down); the sweep will", job.id)
        deleted_object = False
    now = timezone.now()
    marked = PortraitJob.objects.filter(id=job.id, original_deleted_at__isnull=True).update(
        original_deleted_at=now, next_attempt_at=None
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


def deadman_age() -> timedelta:
    """How old an original may get before a sweep destroys it: the limit minus one sweep period,
    so that even an original created just after a sweep never outlives the limit."""
    limit = timedelta(minutes=settings.PROPORTRAIT_ORIGINAL_DEADMAN_MINUTES)
    return limit - timedelta(seconds=settings.PROPORTRAIT_SWEEP_SECONDS)


def destroy_stale_originals(now: Any = None) -> int:
    """The dead-man sweeper: destroy every original older than the limit, whatever its job's state.

    A job still waiting (queued, processing, retrying) at that point has run out of time: it is
    failed, and anything it had started to store is destroyed with its key. Keys that no job
    points at are shredded too. Returns the number of originals and orphaned keys destroyed.
    """
    now = now or timezone.now()
    cutoff = now - deadman_age()
    timed_out = "Processing took too long and was stopped. Your photo was deleted; please try again."
    destroyed = 0
    stale = PortraitJob.objects.filter(created_at__lt=cutoff).filter(
        Q(original_deleted_at__isnull=True) | Q(status__in=WAITING_STATUSES)
    )
    for job in stale.iterator():
        was_running = job.status in WAITING_STATUSES
        fail_job(str(job.id), ErrorCode.GENERATION_FAILED.value, timed_out)
        destroyed += destroy_original(job, reason="deadman_sweeper")
        if was_running:
            discard_partial_results(job)
    return destroyed + shred_orphaned_keys(cutoff)


def shred_orphaned_keys(cutoff: Any) -> int:
    """Shred original and results keys older than `cutoff` that no job points at.

    `NOT EXISTS`, not `NOT IN (subquery)`: the jobs' key columns hold NULLs (every job without
    results), and `x NOT IN (..., NULL)` is never true in SQL, so no key would ever match.
    """
    points_at_key = PortraitJob.objects.filter(Q(original_key=OuterRef("pk")) | Q(results_key=OuterRef("pk")))
    orphans = DataKey.objects.filter(
        purpose__in=[DataKeyPurpose.ORIGINAL, DataKeyPurpose.RESULTS],
        destroyed_at__isnull=True,
        created_at__lt=cutoff,
    ).filter(~Exists(points_at_key))
    shredded = 0
    for data_key in orphans:
        if not crypto.destroy_data_key(data_key):
            continue
        record_event(
            "data_key.orphan_shredded",
            actor="system",
            object_type="data_key",
            object_id=str(data_key.id),
            data={"purpose": data_key.purpose},
        )
        shredded += 1
    return shredded


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
    results_emails_deleted: int = 0


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
    # Purchase records stay for the tax period, but no longer point at the job.
    from portraits.payments.services import unlink_job_purchases

    unlinked = unlink_job_purchases(job)
    # The optional results e-mail address lives as long as the results.
    results_emails = notify.forget_results_email(job)
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
            "purchases_unlinked": unlinked,
            "results_emails_deleted": results_emails,
        },
    )
    return ErasureReceipt(
        job_id=str(job.id),
        erased_at=event.occurred_at,
        portraits_deleted=count,
        objects_deleted=objects,
        keys_shredded=shredded,
        audit_hash=event.hash,
        results_emails_deleted=results_emails,
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
        if job.status in WAITING_STATUSES:
            continue  # the sweeper ends those first
        erase_job(job, reason="retention_expired", actor="system:purge")
        count += 1
    return count
