"""The dead-man sweep and the outbox relay, run by a timer inside every web and worker process.

Neither depends on the broker: each round uses only the database and the object storage, so
originals are destroyed on time and waiting jobs are (re)published even while the broker is
down, and whichever processes are alive keep the promise. Beat still runs the same round once a
minute; running it twice is harmless (every step is idempotent and claims its rows).
"""

from __future__ import annotations

import logging
import os
import random
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from compliance.audit import record_event
from portraits import services, storage
from portraits.models import JobStatus, PortraitJob

logger = logging.getLogger(__name__)

ORIGINALS_PREFIX = "originals/"


@dataclass
class SweepReport:
    originals_destroyed: int = 0
    orphan_objects_deleted: int = 0
    jobs_published: int = 0
    errors: int = 0


def delete_orphaned_originals(now: Any = None) -> int:
    """List `originals/` in storage itself and delete every object no live job accounts for.

    This catches what no job row can: an object written by an upload whose process died before
    its transaction committed (its key was never saved, but the ciphertext must go too), and an
    object whose deletion failed while its job was marked destroyed. Objects younger than the
    dead-man age are left alone: their upload may still be committing.
    """
    now = now or timezone.now()
    cutoff = now - services.deadman_age()
    deleted = 0
    for key, modified_at in storage.list_objects(ORIGINALS_PREFIX):
        job_id = _job_id_from_key(key)
        live = (
            job_id is not None
            and PortraitJob.objects.filter(
                id=job_id, original_storage_key=key, original_deleted_at__isnull=True
            ).exists()
        )
        if live:
            continue  # destroy_stale_originals ends it by the job's own age
        if timezone.is_naive(modified_at):
            modified_at = timezone.make_aware(modified_at, timezone.get_current_timezone())
        has_job = job_id is not None and PortraitJob.objects.filter(id=job_id).exists()
        if not has_job and modified_at >= cutoff:
            continue  # an upload that may still be committing
        if storage.delete_object(key):
            deleted += 1
            record_event(
                "original.orphan_deleted",
                actor="system",
                object_type="storage_object",
                object_id=key,
                data={"job_row": has_job, "age_seconds": int((now - modified_at).total_seconds())},
            )
    return deleted


def _job_id_from_key(key: str) -> uuid.UUID | None:
    name = key.rsplit("/", 1)[-1].removesuffix(".bin")
    try:
        return uuid.UUID(name)
    except ValueError:
        return None


def republish_waiting_jobs(now: Any = None) -> int:
    """The outbox relay: publish the task of every job that waits past its `next_attempt_at`.

    Covers a publish that failed (broker down at upload), a message the broker lost (restart
    without persistence, a worker that died before claiming) and a retry whose message never
    arrived. Each job is claimed by moving its `next_attempt_at` forward, so concurrent relays
    publish it once; a duplicate message would be harmless anyway (claim_job lets one run).
    """
    now = now or timezone.now()
    cutoff = now - services.deadman_age()
    due = PortraitJob.objects.filter(
        status__in=[JobStatus.QUEUED, JobStatus.RETRYING],
        next_attempt_at__lte=now,
        original_deleted_at__isnull=True,
        created_at__gte=cutoff,
    ).only("id", "next_attempt_at")
    published = 0
    for job in due:
        claimed = PortraitJob.objects.filter(id=job.id, next_attempt_at=job.next_attempt_at).update(
            next_attempt_at=now + timedelta(seconds=settings.PROPORTRAIT_REPUBLISH_SECONDS)
        )
        if claimed == 1 and services.publish_generation(job):
            published += 1
            record_event(
                "job.republished",
                actor="system",
                object_type="portrait_job",
                object_id=str(job.id),
                data={"waited_seconds": int((now - job.next_attempt_at).total_seconds())},
            )
    return published


def run_deadman_round(now: Any = None) -> SweepReport:
    """One round: destroy stale originals, delete orphaned objects, republish waiting jobs.

    Each step runs even when another fails (storage down must not stop the database work).
    """
    report = SweepReport()
    steps = (
        ("originals_destroyed", services.destroy_stale_originals),
        ("orphan_objects_deleted", delete_orphaned_originals),
        ("jobs_published", republish_waiting_jobs),
    )
    for field_name, step in steps:
        try:
            setattr(report, field_name, step(now))
        except Exception as error:
            report.errors += 1
            logger.warning("dead-man round: %s failed: %s", step.__name__, type(error).__name__)
    return report


class DeadmanTimer(threading.Thread):
    """Runs `run_deadman_round` every PROPORTRAIT_SWEEP_SECONDS (with jitter) in this process."""

    def __init__(self, period_seconds: float) -> None:
        super().__init__(name="proportrait-deadman", daemon=True)
        self.period_seconds = period_seconds
        self.stopped = threading.Event()

    def run(self) -> None:
        # Spread processes over the period so they do not all sweep at the same moment.
        self.stopped.wait(random.uniform(0.1, 1.0) * min(self.period_seconds, 5.0))
        while not self.stopped.is_set():
            try:
                close_old_connections()
                report = run_deadman_round()
                if report.originals_destroyed or report.orphan_objects_deleted or report.jobs_published:
                    logger.info("dead-man round: %s", report)
            except Exception as error:  # never let the timer die
                logger.warning("dead-man round failed: %s", type(error).__name__)
            finally:
                close_old_connections()
            self.stopped.wait(self.period_seconds * random.uniform(0.8, 1.0))

    def stop(self) -> None:
        self.stopped.set()


_timer: DeadmanTimer | None = None
_timer_pid = 0
_timer_lock = threading.Lock()


def start_deadman_timer() -> DeadmanTimer | None:
    """Start this process's timer once (no-op when PROPORTRAIT_SWEEP_SECONDS is 0).

    A forked child does not inherit the parent's thread, so the timer is keyed by process id: a
    child that calls this (each prefork pool process does) gets its own.
    """
    global _timer, _timer_pid
    period = settings.PROPORTRAIT_SWEEP_SECONDS
    if period <= 0 or not settings.PROPORTRAIT_DEADMAN_TIMER:
        return None
    with _timer_lock:
        if _timer is None or _timer_pid != os.getpid() or not _timer.is_alive():
            _timer = DeadmanTimer(period)
            _timer_pid = os.getpid()
            _timer.start()
    return _timer
