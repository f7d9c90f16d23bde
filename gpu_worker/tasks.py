"""The generation task: the only place gpu_worker meets Celery. It carries a job id, nothing else."""

from __future__ import annotations

import logging

from celery import Task, shared_task

from gpu_worker.errors import DEFAULT_MESSAGES, ErrorCode, PipelineError
from gpu_worker.gateway import load_gateway
from gpu_worker.pipeline import get_pipeline

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    name="gpu_worker.generate_portraits",
    ignore_result=True,
    acks_late=True,
    # A worker lost before claiming puts the message back; a claimed job is never run twice.
    reject_on_worker_lost=True,
)
def generate_portraits(self: Task, job_id: str) -> None:
    gateway = load_gateway()
    try:
        work = gateway.begin(job_id)
    except Exception as error:
        if not gateway.is_transient(error):
            raise
        # The job is still waiting (nothing was claimed): try again shortly. Should this publish
        # fail too, the outbox relay publishes the job from the database.
        logger.warning("job %s: claim failed (%s); retrying", job_id, type(error).__name__)
        attempt = (self.request.retries or 0) + 1
        _publish_again(job_id, gateway.retry_delay_seconds(attempt), attempt=attempt)
        return
    if work is None:
        # Already claimed, finished or deleted: a redelivered message must not run twice.
        logger.info("job %s not claimable; skipping", job_id)
        return
    # The original is destroyed before the outcome is published, so a client that sees
    # "done" or "failed" never finds the original still there; `finally` covers crashes. Only a
    # job deferred after a transient fault keeps its original, for its next attempt.
    deferred = False
    try:
        request = work.build_request(progress=work.report_progress)
        result = get_pipeline(request.backend)(request)
    except PipelineError as error:
        work.destroy_original()
        work.fail(error.code, error.message)
    except MemoryError:
        work.destroy_original()
        work.fail(ErrorCode.OUT_OF_MEMORY, DEFAULT_MESSAGES[ErrorCode.OUT_OF_MEMORY])
    except Exception as error:
        delay = work.defer(type(error).__name__) if gateway.is_transient(error) else None
        if delay is not None:
            deferred = True
            logger.warning("job %s: %s; retrying in %ss", job_id, type(error).__name__, delay)
            _publish_again(job_id, delay)
            return
        work.destroy_original()
        if _is_cuda_out_of_memory(error):
            work.fail(ErrorCode.OUT_OF_MEMORY, DEFAULT_MESSAGES[ErrorCode.OUT_OF_MEMORY])
        else:
            # Log the type only: exception text could quote image data or paths.
            logger.error("job %s failed: %s", job_id, type(error).__name__)
            work.fail(ErrorCode.GENERATION_FAILED, DEFAULT_MESSAGES[ErrorCode.GENERATION_FAILED])
    else:
        del request  # drop the decrypted photo before storing results
        work.destroy_original()
        try:
            work.complete(result)  # retries transient storage and database faults itself
        except BaseException as error:
            # Storing failed for good (the partial results and their key are already
            # destroyed): the job must not stay "processing" for ever.
            logger.error("job %s: storing results failed: %s", job_id, type(error).__name__)
            work.fail(ErrorCode.GENERATION_FAILED, DEFAULT_MESSAGES[ErrorCode.GENERATION_FAILED])
            raise
    finally:
        if not deferred:
            work.destroy_original()


def _publish_again(job_id: str, delay_seconds: float, attempt: int = 0) -> None:
    try:
        # `retries` travels in the message, so repeated claim failures back off further.
        generate_portraits.apply_async(args=[job_id], countdown=delay_seconds, retries=attempt)
    except Exception as error:
        logger.warning(
            "job %s: broker unavailable (%s); the relay will publish it", job_id, type(error).__name__
        )


def _is_cuda_out_of_memory(error: Exception) -> bool:
    return type(error).__name__ == "OutOfMemoryError" or "CUDA out of memory" in str(error)
