"""The generation task: the only place gpu_worker meets Celery. It carries a job id, nothing else."""

from __future__ import annotations

import logging

from celery import shared_task

from gpu_worker.errors import DEFAULT_MESSAGES, ErrorCode, PipelineError
from gpu_worker.gateway import load_gateway
from gpu_worker.pipeline import get_pipeline

logger = logging.getLogger(__name__)


@shared_task(name="gpu_worker.generate_portraits", ignore_result=True)
def generate_portraits(job_id: str) -> None:
    gateway = load_gateway()
    work = gateway.begin(job_id)
    if work is None:
        # Already claimed, finished or deleted: a redelivered message must not run twice.
        logger.info("job %s not claimable; skipping", job_id)
        return
    # The original is destroyed before the outcome is published, so a client that sees
    # "done" or "failed" never finds the original still there; `finally` covers crashes.
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
            work.complete(result)
        except BaseException as error:
            # Storing failed (the partial results are already discarded): the job must not stay
            # "processing" for ever.
            logger.error("job %s: storing results failed: %s", job_id, type(error).__name__)
            work.fail(ErrorCode.GENERATION_FAILED, DEFAULT_MESSAGES[ErrorCode.GENERATION_FAILED])
            raise
    finally:
        work.destroy_original()


def _is_cuda_out_of_memory(error: Exception) -> bool:
    return type(error).__name__ == "OutOfMemoryError" or "CUDA out of memory" in str(error)
