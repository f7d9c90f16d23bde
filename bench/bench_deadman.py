"""How old does an original get while the broker is down? (DESIGN.md: never older than the limit.)

The broker is unreachable for the whole run (its URL points at a closed port), so nothing is
ever generated: every original must be destroyed by the dead-man round that runs on a timer in
the web and worker processes, using only the database and storage. Uploads go through
portraits.services.create_job (the upload view's call), spread over a window so that they land
at every phase of the sweep period; a real gunicorn process and a real Celery worker run beside
them on the embedded stack (temporary var folder, SQLite, local ciphertext store).

Reported per original: its age when destroyed (`original_deleted_at - created_at`), against the
limit. Before issue 11 the cutoff equalled the limit and the sweep ran through the broker, so
with the broker down originals lived on indefinitely.

    .venv/bin/python bench/bench_deadman.py [--uploads 20] [--limit-minutes 1] [--sweep-seconds 10]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUTSIDE_SERVICES = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "PROPORTRAIT_S3_BUCKET")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--limit-minutes", type=int, default=1)
    parser.add_argument("--sweep-seconds", type=int, default=10)
    parser.add_argument("--spread-seconds", type=float, default=30.0)
    options = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="proportrait-bench-deadman-"))
    env = {key: value for key, value in os.environ.items() if key not in OUTSIDE_SERVICES}
    env |= {
        "PROPORTRAIT_VAR_DIR": str(var_dir),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "PROPORTRAIT_MASTER_KEYS": "bench:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "PROPORTRAIT_AUDIT_HMAC_KEYS": "bench:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "PROPORTRAIT_AUDIT_SIGNING_KEYS": "bench:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",  # nothing listens there: the broker is down
        "PROPORTRAIT_ORIGINAL_DEADMAN_MINUTES": str(options.limit_minutes),
        "PROPORTRAIT_SWEEP_SECONDS": str(options.sweep_seconds),
        "PROPORTRAIT_UPLOADS_PER_HOUR": "100000",
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": "WARNING",
        "GLOG_minloglevel": "2",
        "DJANGO_SETTINGS_MODULE": "proportrait.settings",
    }
    os.environ.update(env)
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True)

    log = (var_dir / "processes.log").open("wb")
    commands = [
        [python, "-m", "celery", "-A", "proportrait", "worker", "-Q", "gpu,default", "-P", "solo"],
        [python, "-m", "gunicorn", "proportrait.wsgi:application", "--bind", f"127.0.0.1:{free_port()}",
         "--workers", "1", "--no-control-socket"],
    ]  # fmt: skip
    processes = [subprocess.Popen(c, cwd=REPO, env=env, stdout=log, stderr=log) for c in commands]
    try:
        sys.path.insert(0, str(REPO))
        import django

        django.setup()
        from compliance.models import ConsentKind
        from compliance.services import ConsentAct, current_document
        from portraits import services
        from portraits.models import PortraitJob
        from tests import photos

        photo = photos.face_jpeg()
        version = current_document(ConsentKind.BIOMETRIC).version
        accepted = 0
        started = time.monotonic()
        for index in range(options.uploads):
            # Spread evenly, so uploads land at every phase of the sweep period.
            time.sleep(
                max(0.0, started + index * options.spread_seconds / options.uploads - time.monotonic())
            )
            services.create_job(
                photo=photo,
                consent=ConsentAct(checked=True, signature_name="Bench Person", document_version=version),
                client=services.ClientInfo(ip=f"192.0.2.{index % 250}"),
                style_slug="corporate-grey",
                check_rate_limit=False,
            )
            accepted += 1
        limit_seconds = options.limit_minutes * 60
        deadline = time.monotonic() + limit_seconds + 60
        while time.monotonic() < deadline:
            if not PortraitJob.objects.filter(original_deleted_at__isnull=True).exists():
                break
            time.sleep(1)
        ages = [
            (job.original_deleted_at - job.created_at).total_seconds()
            for job in PortraitJob.objects.all()
            if job.original_deleted_at is not None
        ]
        left = sorted(p.name for p in (var_dir / "storage" / "originals").glob("*"))
        report = {
            "uploads_accepted": accepted,
            "originals_destroyed": len(ages),
            "originals_left_in_storage": len(left),
            "limit_seconds": limit_seconds,
            "sweep_seconds": options.sweep_seconds,
            "age_at_destruction_max_seconds": round(max(ages), 2) if ages else None,
            "age_at_destruction_median_seconds": round(statistics.median(ages), 2) if ages else None,
            "age_at_destruction_min_seconds": round(min(ages), 2) if ages else None,
            "all_destroyed_before_the_limit": bool(ages)
            and len(ages) == accepted
            and max(ages) < limit_seconds,
            "broker": "unreachable for the whole run",
            "machine": f"{os.cpu_count()} CPUs, shared with other work while measured",
        }
        print(json.dumps(report, indent=2))
        return 0 if report["all_destroyed_before_the_limit"] and not left else 1
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()


if __name__ == "__main__":
    sys.exit(main())
