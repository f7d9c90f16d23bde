import logging
import os
from typing import Any

from celery import Celery, signals

from proportrait import broker

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proportrait.settings")

broker.register()  # before the app opens any connection: filesystem:// uses the hardened transport
app = Celery("proportrait")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.include = ["gpu_worker.tasks"]
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


def consumes_generation_queue() -> bool:
    """Whether this worker consumes the generation queue (-Q): only then does it load a generator."""
    from django.conf import settings

    # The queues of -Q, or without it the default queues (which do not include this one).
    return settings.PROPORTRAIT_GENERATION_QUEUE in app.amqp.queues.consume_from


def preload_pipeline() -> None:
    """Load the generator once per worker process, before the first job.

    A missing or broken diffusion model then fails the worker at start-up, loudly, instead of
    failing every job. The backend comes from PROPORTRAIT_BACKEND. Workers that do not consume
    the generation queue (housekeeping, email, DSARs) never load it.
    """
    from django.conf import settings

    from gpu_worker.pipeline import get_pipeline

    if not consumes_generation_queue():
        logger.info("not consuming %r: generator not loaded", settings.PROPORTRAIT_GENERATION_QUEUE)
        return
    get_pipeline(settings.PROPORTRAIT_BACKEND)
    logger.info("generation pipeline %r loaded", settings.PROPORTRAIT_BACKEND)


def start_deadman_timer() -> None:
    from portraits.sweeper import start_deadman_timer as start

    start()


@signals.worker_process_init.connect
def _preload_in_pool_process(**kwargs: Any) -> None:
    # Prefork pool: load in each child, never in the parent (CUDA and mediapipe do not survive fork).
    preload_pipeline()
    # The dead-man round needs no broker: it runs in every child, beside the jobs.
    start_deadman_timer()


@signals.worker_init.connect
def _preload_in_solo_worker(sender: Any = None, **kwargs: Any) -> None:
    pool = getattr(sender, "pool_cls", None)
    pool_name = pool if isinstance(pool, str) else getattr(pool, "__module__", "")
    if "solo" in str(pool_name) or "threads" in str(pool_name):
        preload_pipeline()
        start_deadman_timer()
