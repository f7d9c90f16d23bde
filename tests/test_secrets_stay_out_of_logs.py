"""Links that carry a secret in their path leave no trace of it in any log.

Found: the access log recorded export links (valid for days and reusable), invitations, e-mail
verification, password reset and signed file links; Django's "Not Found: <path>" warnings did
the same. A real gunicorn process, started the way the README and `make run` start it, is
asked for each kind of link; its access log and its error output are read back.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from proportrait.logsafety import REDACTED, SECRET_PATH_PREFIXES, redact_secrets

REPO = Path(__file__).resolve().parent.parent

SECRET = "s3cr3t-T0ken_abcdefghijklmnopqrstuvwxyz0123456789"
SECRET_LINKS = [
    f"/privacy/exports/{SECRET}/",
    f"/privacy/certificates/{SECRET}/",
    f"/accounts/invitations/{SECRET}/",
    f"/accounts/verify/{SECRET}/",
    f"/accounts/password-reset/MQ/{SECRET}/",
    f"/files/{SECRET}/",
    f"/files/{SECRET}/?download=1&next=/privacy/exports/{SECRET}/",
]


@pytest.mark.parametrize("path", SECRET_LINKS)
def test_it_redacts_every_secret_bearing_path(path: str) -> None:
    line = f'127.0.0.1 - - "GET {path} HTTP/1.1" 404 Referer: "http://example.com{path}"'

    redacted = redact_secrets(line)

    assert SECRET not in redacted and REDACTED in redacted
    prefix = next(prefix for prefix in SECRET_PATH_PREFIXES if path.startswith(prefix))
    assert f"GET {prefix}{REDACTED}/" in redacted  # which kind of link it was stays readable


def test_it_leaves_ordinary_paths_alone() -> None:
    for path in [
        "/privacy/requests/",
        "/accounts/password-reset/sent/",
        "/accounts/password-reset/done/",
        "/try/",
    ]:
        assert redact_secrets(f"GET {path} HTTP/1.1") == f"GET {path} HTTP/1.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.integration
def test_a_real_web_process_logs_no_secret(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "PROPORTRAIT_TEST_STACK", "REDIS_URL", "CELERY_BROKER_URL"}
    }
    env.update(
        {
            "PROPORTRAIT_VAR_DIR": str(var_dir),
            "DJANGO_SETTINGS_MODULE": "proportrait.settings",
            "SECRET_KEY": "test-only-secret-key-for-log-redaction-0123456789",
            "PROPORTRAIT_MASTER_KEYS": "k1:" + "A" * 43 + "=",
            "PYTHONUNBUFFERED": "1",
        }
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=REPO,
        env=env,
        check=True,
        timeout=300,
    )
    port = free_port()
    access_log, error_log = tmp_path / "access.log", tmp_path / "error.log"
    with error_log.open("wb") as errors:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "python:proportrait.gunicorn_conf",
                "proportrait.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--no-control-socket",
                "--access-logfile",
                str(access_log),
            ],
            cwd=REPO,
            env=env,
            stdout=errors,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(base + "/privacy/", timeout=2).close()  # noqa: S310 (loopback)
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, error_log.read_text()
                time.sleep(0.3)
        statuses = []
        for path in SECRET_LINKS:
            request = urllib.request.Request(base + path, headers={"Referer": base + path})  # noqa: S310
            try:
                with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
                    statuses.append(response.status)
            except urllib.error.HTTPError as error:
                statuses.append(error.code)
    finally:
        process.terminate()
        process.wait(timeout=30)

    logged = access_log.read_text() + error_log.read_text()
    assert len([line for line in access_log.read_text().splitlines() if REDACTED in line]) == len(
        SECRET_LINKS
    )
    assert "Not Found" in error_log.read_text() or "Bad Request" in error_log.read_text(), statuses
    assert SECRET not in logged
