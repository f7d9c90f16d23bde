"""Helpers for tests that start real processes."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

from portraits.gateway import DjangoJobGateway, DjangoJobWork

REPO = Path(__file__).resolve().parent.parent


class SlowJobWork(DjangoJobWork):
    """Holds the job in `processing` long enough for a test to kill the worker mid-job."""

    def build_request(self, progress):  # type: ignore[no-untyped-def]
        self.report_progress("decode", 0.05)
        time.sleep(float(os.environ.get("PROPORTRAIT_TEST_SLOW_SECONDS", "30")))
        return super().build_request(progress)


class SlowJobGateway(DjangoJobGateway):
    def begin(self, job_id: str) -> SlowJobWork | None:  # type: ignore[override]
        work = super().begin(job_id)
        return SlowJobWork(work.job) if work is not None else None


def worker_database_url() -> str:
    """The URL of the database the test is using right now, for a worker process to share."""
    settings_dict = connection.settings_dict
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict.get("USER") or "postgres"
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or "5432"
    return f"postgres://{user}@{host}:{port}/{settings_dict['NAME']}"


def purge_queues() -> None:
    """Drop messages left by earlier runs: they are not this test's jobs."""
    from proportrait.celery import app

    with app.connection_for_write() as connection:
        channel = connection.default_channel
        for queue in ("gpu", "default"):
            # A queue that was never declared holds nothing to purge.
            with contextlib.suppress(Exception):
                channel.queue_purge(queue)


def start_worker(log_path: Path, extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    purge_queues()
    env = {**os.environ, "DATABASE_URL": worker_database_url(), "PYTHONUNBUFFERED": "1", **(extra_env or {})}
    env.pop("PROPORTRAIT_TEST_DATABASE_NAME", None)
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "proportrait",
        "worker",
        "-Q",
        "gpu,default",
        "-P",
        "solo",
        "-c",
        "1",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-l",
        "INFO",
        "-n",
        f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
    ]
    log = log_path.open("wb")
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_until_ready(log_path: Path, process: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    """Block until the worker says it is ready (its queues are consumed), or fail with its log."""
    ready = wait_for(
        lambda: process.poll() is not None or " ready." in log_path.read_text(errors="replace"), timeout
    )
    log = log_path.read_text(errors="replace")
    if not ready or process.poll() is not None:
        raise AssertionError(f"the worker did not become ready:\n{log[-3000:]}")


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.1) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
