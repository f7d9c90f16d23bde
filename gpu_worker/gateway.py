"""The narrow contract between the generation task and whoever owns the job's data.

The web application provides the implementation (`portraits.gateway.DjangoJobGateway`);
gpu_worker only knows this protocol, so it never imports Django.
"""

from __future__ import annotations

import importlib
import os
from typing import Protocol

from gpu_worker.errors import ErrorCode
from gpu_worker.schemas import GenerationRequest, GenerationResult, ProgressCallback

DEFAULT_GATEWAY = "portraits.gateway.DjangoJobGateway"


class JobWork(Protocol):
    """One claimed job. `destroy_original` is always called last, whatever happened."""

    def build_request(self, progress: ProgressCallback) -> GenerationRequest:
        """Decrypt the original in memory and describe the job. Raises InputError if unusable."""
        ...

    def report_progress(self, stage: str, fraction: float) -> None: ...

    def complete(self, result: GenerationResult) -> None:
        """Encrypt and store the portraits; mark the job done."""
        ...

    def fail(self, code: ErrorCode, message: str) -> None:
        """Mark the job failed with a documented error code and a plain message."""
        ...

    def defer(self, reason: str) -> float | None:
        """A transient fault interrupted the job: keep the original and mark it "retrying".

        Returns the delay in seconds before the next attempt, or None when no attempt can start
        before the original's dead-man limit (then the caller fails the job as usual).
        """
        ...

    def destroy_original(self) -> None:
        """Delete the encrypted original and wipe its data key. Idempotent."""
        ...


class JobGateway(Protocol):
    def begin(self, job_id: str) -> JobWork | None:
        """Claim a queued job for processing; None if it was already claimed, finished or deleted.

        May raise a transient error (the database is briefly away): see `is_transient`."""
        ...

    def is_transient(self, error: BaseException) -> bool:
        """True when a dependency (storage, database, broker) failed and a later attempt may work."""
        ...

    def retry_delay_seconds(self, attempt: int) -> float:
        """Backoff before attempt number `attempt` (1, 2, ...)."""
        ...


def load_gateway() -> JobGateway:
    dotted = os.environ.get("PROPORTRAIT_JOB_GATEWAY", DEFAULT_GATEWAY)
    module_name, _, class_name = dotted.rpartition(".")
    gateway_class = getattr(importlib.import_module(module_name), class_name)
    return gateway_class()
