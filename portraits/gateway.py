"""The web application's side of gpu_worker's JobGateway contract."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from gpu_worker.errors import ErrorCode, GenerationError
from gpu_worker.schemas import GenerationRequest, GenerationResult, ProgressCallback
from portraits import crypto, faults, services
from portraits.models import PortraitJob

logger = logging.getLogger(__name__)

# In-process retries of storing results: the portraits exist only in this worker's memory.
STORE_RETRY_PAUSES_SECONDS = (1, 2, 4, 8, 15, 15, 15, 15)


class DjangoJobWork:
    def __init__(self, job: PortraitJob) -> None:
        self.job = job
        self.job_id = str(job.id)
        self._last_percent = 0

    def build_request(self, progress: ProgressCallback) -> GenerationRequest:
        # The original's key lives only in the volatile key store; if it is gone (time-to-live
        # passed, store restarted) the photo can never be read: fail cleanly, ask for a new upload.
        # An unreachable store is transient (faults.is_transient) and the job is retried.
        try:
            photo = services.read_original(self.job)
        except crypto.KeyLost:
            raise GenerationError(ErrorCode.ORIGINAL_UNAVAILABLE) from None
        return GenerationRequest(
            job_id=self.job_id,
            photo=photo,
            style=services.job_style(self.job),
            variants=self.job.variants,
            seed=self.job.seed,
            backend=services.job_backend(self.job),
            progress=progress,
        )

    def report_progress(self, stage: str, fraction: float) -> None:
        # 1..99 while working; 100 is set only when the portraits are stored.
        percent = max(1, min(99, int(fraction * 100)))
        if percent > self._last_percent:
            self._last_percent = percent
            services.report_progress(self.job_id, percent, stage)

    def complete(self, result: GenerationResult) -> None:
        """Store the portraits; a transient fault (storage or database briefly away) is retried
        here with backoff, while the dead-man limit allows, since nothing else could redo it."""
        deadline = services.original_deadline(self.job)
        for pause_seconds in (*STORE_RETRY_PAUSES_SECONDS, None):
            try:
                services.complete_job(self.job_id, result)
                return
            except Exception as error:
                out_of_time = timezone.now().timestamp() + (pause_seconds or 0) >= deadline.timestamp()
                if pause_seconds is None or out_of_time or not faults.is_transient(error):
                    raise
                logger.warning("job %s: storing results: %s; retrying", self.job_id, type(error).__name__)
                time.sleep(pause_seconds)
                _replace_broken_connections()

    def fail(self, code: ErrorCode, message: str) -> None:
        services.fail_job(self.job_id, ErrorCode(code).value, message)

    def defer(self, reason: str) -> float | None:
        for pause_seconds in (1, 2, 4, 8):
            try:
                return services.defer_job(self.job_id, reason)
            except Exception as error:
                if not faults.is_transient(error):
                    raise
                time.sleep(pause_seconds)  # the database is briefly away too
                _replace_broken_connections()
        return None

    def destroy_original(self) -> None:
        services.destroy_original(self.job, reason="job_ended")


def _replace_broken_connections() -> None:
    # After a database outage the connection is dead; Django opens a new one on next use. Never
    # inside a transaction (tests run tasks eagerly inside one).
    if not connection.in_atomic_block:
        close_old_connections()


class DjangoJobGateway:
    def begin(self, job_id: str) -> DjangoJobWork | None:
        job = services.claim_job(job_id, backend=settings.PROPORTRAIT_BACKEND)
        return DjangoJobWork(job) if job is not None else None

    def is_transient(self, error: BaseException) -> bool:
        return faults.is_transient(error)

    def retry_delay_seconds(self, attempt: int) -> float:
        return services.retry_delay_seconds(attempt)
