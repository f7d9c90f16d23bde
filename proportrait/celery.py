import logging
import os
from typing import Any

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proportrait.settings")

app = Celery("proportrait")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.include = ["gpu_worker.tasks"]
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


def preload_pipeline() -> None:
    """Load the generator once per worker process, before the first job.

    A missing or broken diffusion model then fails the worker at start-up, loudly, instead of
    failing every job. The backend comes from PROPORTRAIT_BACKEND.
    """
    from django.conf import settings

    from gpu_worker.pipeline import get_pipeline

    get_pipeline(settings.PROPORTRAIT_BACKEND)
    logger.info("generation pipeline %r loaded", settings.PROPORTRAIT_BACKEND)


@signals.worker_process_init.connect
def _preload_in_pool_process(**kwargs: Any) -> None:
    # Prefork pool: load in each child, never in the parent (CUDA and mediapipe do not survive fork).
    preload_pipeline()


@signals.worker_init.connect
def _preload_in_solo_worker(sender: Any = None, **kwargs: Any) -> None:
    pool = getattr(sender, "pool_cls", None)
    pool_name = pool if isinstance(pool, str) else getattr(pool, "__module__", "")
    if "solo" in str(pool_name) or "threads" in str(pool_name):
        preload_pipeline()
