"""Browser tests: a real gunicorn web process and a real Celery worker against the test
database, driven by Debian's headless Chromium through Playwright (no browser download).

Screenshots go to a temporary folder, or to docs/screenshots/ when PROPORTRAIT_SAVE_SCREENSHOTS=1.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import REPO, start_worker, wait_for, worker_database_url

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing; run `scripts/bootstrap.sh --browser` (apt package chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture
def browser(chromium_path: Path, transactional_db: None) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread while it is started.
    # Started per test and after the database fixture: with a loop running, Django's
    # connection handler gives this thread new connection objects, and the test database's
    # serialized contents (serialized_rollback) would not be found. Django also refuses ORM
    # calls while a loop runs; the test's calls are synchronous and safe.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
            yield launched
            launched.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def screenshot_dir(tmp_path: Path) -> Path:
    if os.environ.get("PROPORTRAIT_SAVE_SCREENSHOTS") == "1":
        folder = REPO / "docs" / "screenshots"
    else:
        folder = tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def stack_env(transactional_db: None, storage_dir: Path, settings: Any) -> dict[str, str]:
    """Environment shared by the web and worker processes: the test database, this test's
    storage folder and the test run's var folder (broker, cache, collected static files)."""
    from django.core.management import call_command

    var_dir = Path(settings.VAR_DIR)
    for folder in ("broker/queue", "broker/processed", "mail"):
        (var_dir / folder).mkdir(parents=True, exist_ok=True)
    if not (Path(settings.STATIC_ROOT) / "proportrait" / "site.css").exists():
        call_command("collectstatic", interactive=False, verbosity=0)
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "PROPORTRAIT_STORAGE_DIR": str(storage_dir),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("PROPORTRAIT_TEST_DATABASE_NAME", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


@contextlib.contextmanager
def serve_gunicorn(env: dict[str, str], port: int, base_url: str, log_path: Path) -> Iterator[str]:
    """gunicorn serving proportrait.wsgi on 127.0.0.1:`port` with `env`, until the block ends;
    yields `base_url` once the landing page answers 200."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "proportrait.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--threads",
        "4",
        "--timeout",
        "60",
        "--no-control-socket",  # gunicorn's default socket is one per user: parallel servers clash
        "--access-logfile",
        "-",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)

    def answers() -> bool:
        if process.poll() is not None:
            return True
        try:
            with urllib.request.urlopen(base_url + "/", timeout=2) as response:  # noqa: S310 (loopback only)
                return response.status == 200
        except OSError:
            return False

    try:
        assert wait_for(answers, timeout=90, interval=0.3) and process.poll() is None, (
            "gunicorn did not start:\n" + log_path.read_text(errors="replace")[-3000:]
        )
        yield base_url
    finally:
        stop_process(process)


@pytest.fixture
def web_server(stack_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """gunicorn serving proportrait.wsgi on a free 127.0.0.1 port; yields its base URL."""
    port = free_port()
    with serve_gunicorn(stack_env, port, f"http://127.0.0.1:{port}", tmp_path / "web.log") as base_url:
        yield base_url


@pytest.fixture
def worker(stack_env: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker (solo pool). The job is held in `processing` for a couple of seconds
    (tests.support.SlowJobGateway) so that the progress page can be seen and photographed."""
    log_path = tmp_path / "worker.log"
    extra = {
        "DATABASE_URL": stack_env["DATABASE_URL"],
        "PROPORTRAIT_STORAGE_DIR": stack_env["PROPORTRAIT_STORAGE_DIR"],
        "PROPORTRAIT_JOB_GATEWAY": "tests.support.SlowJobGateway",
        "PROPORTRAIT_TEST_SLOW_SECONDS": "3",
    }
    process = start_worker(log_path, extra)
    try:

        def started() -> bool:
            return process.poll() is not None or b" ready." in log_path.read_bytes()

        ready = wait_for(started, timeout=120, interval=0.3)
        assert ready and process.poll() is None, (
            "worker did not start:\n" + log_path.read_text(errors="replace")[-3000:]
        )
        time.sleep(0.2)
        yield process
    finally:
        stop_process(process)
