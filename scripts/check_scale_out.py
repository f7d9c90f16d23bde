"""Bring up the README's "At scale" stack exactly as written and prove one job end to end.

The shell block under "### At scale" in README.md is run as it stands, in bash, with only the
values of its `export` lines for services replaced by local ones: PostgreSQL, Redis (database
and broker numbers from the environment), and S3 through a local `moto_server` (moto[server],
a dev extra). It starts gunicorn, a `-Q default` worker, a `-Q gpu` worker and beat. Then a
photo is uploaded over HTTP, and the check passes when:

- the job ends `done`, with the backend the gpu worker ran recorded on the job;
- every object in the bucket is our ciphertext (magic `PPE1`), none is a readable image;
- the original's object is gone from the bucket and its data key is shredded;
- the `-Q default` worker did not load a generator.

Variables: SCALE_OUT_DATABASE_URL (default: DATABASE_URL with `_scaleout` appended to its name,
created if missing), REDIS_URL, CELERY_BROKER_URL (defaults: redis://127.0.0.1:6379/0 and /1).
Exit status 0 when every check passed. Run: `.venv/bin/python scripts/check_scale_out.py`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

REPO = Path(__file__).resolve().parent.parent
MAGIC = b"PPE1"


def readme_block() -> str:
    text = (REPO / "README.md").read_text()
    section = text.split("### At scale", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    if match is None:
        raise SystemExit("README: no sh block under '### At scale'")
    return match.group(1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def scale_out_database_url() -> str:
    explicit = os.environ.get("SCALE_OUT_DATABASE_URL")
    if explicit:
        return explicit
    base = urlparse(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/proportrait"))
    return urlunparse(base._replace(path=base.path.rstrip("/") + "_scaleout"))


def ensure_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def local_values(s3_port: int, web_port: int, var_dir: Path) -> dict[str, str]:
    """The values that replace the README's placeholders for services; everything else is as written."""
    return {
        "DATABASE_URL": scale_out_database_url(),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/1"),
        # This machine's Redis keeps nothing on disk, so it may serve as the volatile key store too.
        "PROPORTRAIT_KEYSTORE_URL": os.environ.get(
            "PROPORTRAIT_KEYSTORE_URL", os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
        ),
        "PROPORTRAIT_S3_BUCKET": "proportrait-scale-out",
        "PROPORTRAIT_S3_REGION": "eu-central-1",
        # Plain HTTP on loopback for the check; production keeps these true behind TLS.
        "PROPORTRAIT_HTTPS": "false",
        "PROPORTRAIT_BEHIND_PROXY": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    } | {
        # Not in the README block: where the local S3 server is, and private local state.
        "PROPORTRAIT_S3_ENDPOINT_URL": f"http://127.0.0.1:{s3_port}",
        "PROPORTRAIT_S3_ACCESS_KEY_ID": "check",
        "PROPORTRAIT_S3_SECRET_ACCESS_KEY": "check",
        "PORT": str(web_port),  # gunicorn binds $PORT when no --bind is given
        "PROPORTRAIT_VAR_DIR": str(var_dir),
        "PROPORTRAIT_SWEEP_SECONDS": "5",
        "GLOG_minloglevel": "2",
    }


def localised_block(values: dict[str, str]) -> str:
    """The README block with each `export NAME=value` of a service replaced by the local value."""
    lines = []
    for line in readme_block().splitlines():
        if line.startswith("export ") and "$(" not in line and "PATH=" not in line:
            assignments = line.removeprefix("export ").split()
            rewritten = []
            for assignment in assignments:
                name = assignment.split("=", 1)[0]
                if name not in values:
                    raise SystemExit(f"README exports {name}, which this check does not know how to localise")
                rewritten.append(f"{name}={values[name]}")
            line = "export " + " ".join(rewritten)
        lines.append(line)
    return "\n".join(lines)


def wait_for(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.5)
    raise SystemExit(f"timed out waiting for {what}")


def face_jpeg() -> bytes:
    sys.path.insert(0, str(REPO))
    from tests import photos

    return photos.face_jpeg()


def main() -> int:
    import boto3
    import requests

    ensure_database(scale_out_database_url())
    s3_port, web_port = free_port(), free_port()
    work = Path(tempfile.mkdtemp(prefix="proportrait-scale-out-"))
    values = local_values(s3_port, web_port, work / "var")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PROPORTRAIT_", "DJANGO_"))}
    for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)
    env |= values
    env["PYTHONUNBUFFERED"] = "1"
    script = work / "at-scale.sh"
    script.write_text("set -e\n" + localised_block(values) + "\n")
    log = (work / "stack.log").open("wb")
    processes: list[subprocess.Popen[bytes]] = []
    stack: subprocess.Popen[bytes] | None = None
    try:
        bin_dir = Path(sys.executable).parent
        moto = subprocess.Popen(
            [str(bin_dir / "moto_server"), "-H", "127.0.0.1", "-p", str(s3_port)], stdout=log, stderr=log
        )
        processes.append(moto)
        s3 = boto3.client(
            "s3",
            endpoint_url=values["PROPORTRAIT_S3_ENDPOINT_URL"],
            region_name=values["PROPORTRAIT_S3_REGION"],
            aws_access_key_id=values["PROPORTRAIT_S3_ACCESS_KEY_ID"],
            aws_secret_access_key=values["PROPORTRAIT_S3_SECRET_ACCESS_KEY"],
        )
        wait_for(lambda: _s3_up(s3), 60, "the local S3 server")
        s3.create_bucket(
            Bucket=values["PROPORTRAIT_S3_BUCKET"],
            CreateBucketConfiguration={"LocationConstraint": values["PROPORTRAIT_S3_REGION"]},
        )
        stack = subprocess.Popen(
            ["bash", str(script)], cwd=REPO, env=env, stdout=log, stderr=log, start_new_session=True
        )
        processes.append(stack)
        base = f"http://127.0.0.1:{web_port}"
        wait_for(lambda: _web_up(requests, base), 180, "gunicorn")
        consent = requests.get(f"{base}/api/v1/consent/current/", timeout=10).json()
        version = next(item["version"] for item in consent if item["kind"] == "biometric")
        response = requests.post(
            f"{base}/api/v1/jobs/",
            data={
                "consent": "true",
                "consent_version": version,
                "signature": "Jane Example",
                "style": "studio-white",
            },
            files={"photo": ("selfie.jpg", BytesIO(face_jpeg()), "image/jpeg")},
            timeout=60,
        )
        if response.status_code != 201:
            raise SystemExit(f"upload answered {response.status_code}: {response.text[:300]}")
        created = response.json()
        status_url = created["status_url"]
        headers = {"X-Job-Token": created["token"]}

        def finished() -> dict[str, Any] | None:
            body: dict[str, Any] = requests.get(status_url, headers=headers, timeout=10).json()
            return body if body["status"] in {"done", "failed", "deleted"} else None

        job = wait_for(finished, 300, "the job to finish")
        checks = verify(job, s3, values, created["id"], work / "stack.log")
        print(json.dumps(checks, indent=2))
        return 0 if all(checks.values()) else 1
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    if process is stack:
                        os.killpg(process.pid, signal.SIGTERM)  # bash and everything it started
                    else:
                        process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        if stack is not None:
            _stop_group(stack.pid)
        log.close()
        print(f"stack log: {work / 'stack.log'}", file=sys.stderr)


def verify(
    job: dict[str, Any], s3: Any, values: dict[str, str], job_id: str, log_path: Path
) -> dict[str, bool]:
    import psycopg

    bucket = values["PROPORTRAIT_S3_BUCKET"]
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    bodies = {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}
    with psycopg.connect(values["DATABASE_URL"]) as connection:
        row = connection.execute(
            "SELECT j.backend, k.destroyed_at IS NOT NULL, k.wrapped_key IS NULL "
            "FROM portraits_portraitjob j JOIN portraits_datakey k ON k.id = j.original_key_id "
            "WHERE j.id = %s",
            [job_id],
        ).fetchone()
    log = log_path.read_text(errors="replace")
    return {
        "job_done": job["status"] == "done",
        "four_portraits": len(job["portraits"]) == 4,
        "original_deleted_at_set": job["original_deleted_at"] is not None,
        "backend_recorded_is_the_gpu_workers": row is not None and row[0] == "studio",
        "original_key_shredded": row is not None and bool(row[1]) and bool(row[2]),
        "no_original_object_in_bucket": not any(key.startswith("originals/") for key in keys),
        "results_in_bucket": any(key.startswith(f"results/{job_id}/") for key in keys),
        "only_ciphertext_in_bucket": bool(bodies) and all(body.startswith(MAGIC) for body in bodies.values()),
        "no_readable_image_in_bucket": not any(
            body[:3] == b"\xff\xd8\xff" or body[:8] == b"\x89PNG\r\n\x1a\n" for body in bodies.values()
        ),
        "default_worker_loaded_no_generator": "not consuming 'gpu': generator not loaded" in log,
    }


def _stop_group(group_id: int, timeout_seconds: float = 30.0) -> None:
    """Wait for every process the README block started (one process group), then kill the rest."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(group_id, 0)
        except ProcessLookupError:
            return
        time.sleep(0.5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group_id, signal.SIGKILL)


def _s3_up(s3: Any) -> bool:
    try:
        s3.list_buckets()
        return True
    except Exception:
        return False


def _web_up(requests: Any, base: str) -> bool:
    try:
        return bool(requests.get(f"{base}/api/v1/styles/", timeout=5).status_code == 200)
    except Exception:
        return False


if __name__ == "__main__":
    sys.exit(main())
