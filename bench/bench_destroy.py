"""How soon is the original photo destroyed after its job ends? (DESIGN.md target: under 1 s.)

The worker destroys the original as soon as generation ends, before it records the job's end
(`finished_at`), so that nobody who sees a finished job can find the original still there: a
negative `original_deleted_at - finished_at` means destroyed that long before the end was
recorded. Also reported: how long the worker held the original (claim to destruction, which
is the generation time) and its whole life (upload to destruction, including queueing).

Runs real jobs through a real Celery worker on the embedded stack (temporary var folder,
generated secrets, SQLite, local ciphertext store, filesystem broker, studio backend; the
worker is started as scripts/run_embedded.py starts it, without the scheduler) and reads, per
job, `original_deleted_at - finished_at` from the database. Both paths:

  - done:   a 12-megapixel phone-like selfie (scikit-image's astronaut, upscaled);
  - failed: a photo without a face (gradient), which the worker fails with `no_face`.

Jobs are created in this process through portraits.services.create_job (the same call the
upload view makes), then queued for the worker. Nothing leaves the machine.

    .venv/bin/python bench/bench_destroy.py [--jobs 20] [--failed-jobs 10]
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_web import REPO, embedded_env, percentile, phone_selfie


def no_face_jpeg() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((1200, 1600)).convert("RGB").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def summary(values: list[float]) -> str:
    if not values:
        return "no samples"
    return (
        f"p50 {statistics.median(values):8.1f} ms   p95 {percentile(values, 0.95):8.1f} ms   "
        f"max {max(values):8.1f} ms   (n={len(values)})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=20, help="jobs that should succeed (default 20)")
    parser.add_argument("--failed-jobs", type=int, default=10, help="jobs without a face (default 10)")
    parser.add_argument("--time-limit", type=float, default=600, help="seconds to wait for all jobs")
    parser.add_argument("--keep", action="store_true", help="keep the temporary var folder")
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="proportrait-bench-destroy-"))
    env = embedded_env(var_dir, uploads_per_hour=10_000)
    os.environ.clear()
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "proportrait.settings"
    sys.path.insert(0, str(REPO))

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)

    from django.db.models import Q

    from compliance.models import ConsentKind
    from compliance.services import ConsentAct, current_document
    from portraits import services
    from portraits.models import JobStatus, PortraitJob

    log_path = var_dir / "worker.log"
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "proportrait",
        "worker",
        "-Q",
        "gpu,default",
        "--concurrency",
        "1",
        "--without-gossip",
        "--without-mingle",
        "-l",
        "INFO",
    ]
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 120
        while b" ready." not in log_path.read_bytes():
            if worker.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-2000:]
                print(f"bench_destroy: the worker did not start:\n{tail}", file=sys.stderr)
                return 1
            time.sleep(0.3)

        document = current_document(ConsentKind.BIOMETRIC)
        consent = ConsentAct(
            checked=True,
            signature_name="Bench Mark Example",
            document_version=document.version,
            ip="127.0.0.1",
        )
        client = services.ClientInfo(ip="127.0.0.1", user_agent="bench_destroy")
        selfie, blank = phone_selfie(), no_face_jpeg()
        job_ids: list[str] = []
        for index in range(args.jobs + args.failed_jobs):
            photo = selfie if index < args.jobs else blank
            created = services.create_job(
                photo=photo, consent=consent, client=client, style_slug="corporate-grey"
            )
            job_ids.append(str(created.job.id))

        deadline = time.monotonic() + args.time_limit
        pending = PortraitJob.objects.filter(id__in=job_ids).filter(
            Q(original_deleted_at__isnull=True) | Q(finished_at__isnull=True)
        )
        while pending.exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        jobs = list(PortraitJob.objects.filter(id__in=job_ids).select_related("original_key"))
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)

    done_ms: list[float] = []
    failed_ms: list[float] = []
    lifetime_ms: list[float] = []
    held_ms: dict[str, list[float]] = {JobStatus.DONE: [], JobStatus.FAILED: []}
    problems: list[str] = []
    for job in jobs:
        if job.original_deleted_at is None or job.finished_at is None:
            problems.append(f"{job.id}: status {job.status}, original not destroyed in time")
            continue
        if job.original_key is None or job.original_key.destroyed_at is None:
            problems.append(f"{job.id}: data key not shredded")
        delta = (job.original_deleted_at - job.finished_at).total_seconds() * 1000
        lifetime_ms.append((job.original_deleted_at - job.created_at).total_seconds() * 1000)
        if job.started_at is not None and job.status in held_ms:
            held_ms[job.status].append((job.original_deleted_at - job.started_at).total_seconds() * 1000)
        if job.status == JobStatus.DONE:
            done_ms.append(delta)
        elif job.status == JobStatus.FAILED:
            failed_ms.append(delta)
        else:
            problems.append(f"{job.id}: unexpected status {job.status}")
    originals_left = list((var_dir / "storage").glob("originals/*"))
    if originals_left:
        problems.append(f"{len(originals_left)} encrypted originals left in storage")
    error_codes = sorted({job.error_code for job in jobs if job.status == JobStatus.FAILED})

    print(
        f"bench_destroy  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  {platform.node()}  {os.cpu_count()} CPUs  "
        f"Python {platform.python_version()}"
    )
    print(
        "  embedded stack: SQLite, local storage, filesystem broker, studio backend; "
        "Celery worker prefork, concurrency 1"
    )
    print(
        f"  jobs: {args.jobs} with a 12 MP selfie ({len(selfie) / 1e6:.2f} MB), "
        f"{args.failed_jobs} without a face; failure codes {error_codes}"
    )
    print("  original_deleted_at - finished_at (negative: destroyed before the job's end was recorded)")
    print(f"    done jobs:   {summary(done_ms)}")
    print(f"    failed jobs: {summary(failed_ms)}")
    print("  held by the worker (claimed -> destroyed: decrypt, analyse, render for done jobs)")
    print(f"    done jobs:   {summary(held_ms[JobStatus.DONE])}")
    print(f"    failed jobs: {summary(held_ms[JobStatus.FAILED])}")
    print(f"  whole life (uploaded -> destroyed, includes queueing): {summary(lifetime_ms)}")
    for problem in problems:
        print(f"  PROBLEM: {problem}")
    if args.keep:
        print(f"  var folder kept: {var_dir}")
    else:
        shutil.rmtree(var_dir, ignore_errors=True)
    return 1 if problems or len(done_ms) != args.jobs or len(failed_ms) != args.failed_jobs else 0


if __name__ == "__main__":
    sys.exit(main())
