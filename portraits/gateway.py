"""The web application's side of gpu_worker's JobGateway contract."""

from __future__ import annotations

from gpu_worker.errors import ErrorCode, GenerationError
from gpu_worker.schemas import GenerationRequest, GenerationResult, ProgressCallback
from portraits import crypto, keystore, services
from portraits.models import PortraitJob


class DjangoJobWork:
    def __init__(self, job: PortraitJob) -> None:
        self.job = job
        self.job_id = str(job.id)
        self._last_percent = 0

    def build_request(self, progress: ProgressCallback) -> GenerationRequest:
        # The original's key lives only in the volatile key store; if it is gone (time-to-live
        # passed, store restarted) the photo can never be read: fail cleanly, ask for a new upload.
        try:
            photo = services.read_original(self.job)
        except (crypto.KeyLost, keystore.KeyStoreUnavailable):
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
        services.complete_job(self.job_id, result)

    def fail(self, code: ErrorCode, message: str) -> None:
        services.fail_job(self.job_id, ErrorCode(code).value, message)

    def destroy_original(self) -> None:
        services.destroy_original(self.job, reason="job_ended")


class DjangoJobGateway:
    def begin(self, job_id: str) -> DjangoJobWork | None:
        job = services.claim_job(job_id)
        return DjangoJobWork(job) if job is not None else None
