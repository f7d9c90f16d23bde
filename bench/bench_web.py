"""Web tier benchmark: upload acceptance latency at N concurrent uploads (DESIGN.md target:
"upload accepted in under 150 ms p95 (excluding transfer) at 50 concurrent uploads").

Starts the embedded stack's web process itself (gunicorn, SQLite, local ciphertext store,
filesystem broker) in a temporary var folder with generated secrets, then fires rounds of
concurrent multipart POSTs to /api/v1/jobs/ from threads, each with a 12-megapixel phone-like
JPEG. No Celery worker is started: jobs are queued (a broker message file) and stay queued,
which is all the upload path does.

Three figures per upload:
  - server: gunicorn's own request time (access log %(D)s). It starts when gunicorn has read
    the request headers and includes the app reading the body from the loopback socket;
  - after-send: client time from the last body byte handed to the kernel to the response;
  - total: client time from connect to the full response (includes transfer and queueing for
    a free gunicorn thread).

Only 127.0.0.1 is contacted; uploads, rounds and time are bounded.

    .venv/bin/python bench/bench_web.py [--uploads 200] [--concurrency 50] [--workers 2] [--threads 4]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import math
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
ACCESS_LOG_FORMAT = "BENCH %(m)s %(U)s %(q)s %(s)s %(D)s"
TIMED_QUERY = "timed=1"  # marks the timed uploads in the access log (warm-up ones have none)
# Variables that would point the stack at outside services: the embedded default has none.
OUTSIDE_SERVICES = {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "PROPORTRAIT_S3_BUCKET", "EMAIL_HOST"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def embedded_env(var_dir: Path, uploads_per_hour: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in OUTSIDE_SERVICES}
    env.update(
        {
            "PROPORTRAIT_VAR_DIR": str(var_dir),
            "SECRET_KEY": secrets.token_urlsafe(50),
            "PROPORTRAIT_MASTER_KEYS": "bench:" + base64.b64encode(secrets.token_bytes(32)).decode(),
            "PROPORTRAIT_AUDIT_HMAC_KEYS": "bench:" + base64.b64encode(secrets.token_bytes(32)).decode(),
            "PROPORTRAIT_AUDIT_SIGNING_KEYS": "bench:" + base64.b64encode(secrets.token_bytes(32)).decode(),
            "PROPORTRAIT_UPLOADS_PER_HOUR": str(uploads_per_hour),
            "PYTHONUNBUFFERED": "1",
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
        }
    )
    for folder in ("broker/queue", "broker/processed", "storage", "mail"):
        (var_dir / folder).mkdir(parents=True, exist_ok=True)
    return env


def phone_selfie(width: int = 3024, height: int = 4032, quality: int = 92) -> bytes:
    """A 12-megapixel portrait-orientation JPEG of a real face (scikit-image's astronaut),
    upscaled with sensor-like noise so it compresses like a phone photo (a few MB)."""
    import numpy as np
    from PIL import Image
    from skimage import data

    side = max(width, height)
    image = Image.fromarray(data.astronaut()).resize((side, side), Image.Resampling.BICUBIC)
    left, top = (side - width) // 2, (side - height) // 2
    pixels = np.asarray(image.crop((left, top, left + width, top + height)), dtype=np.int16)
    noise = np.random.default_rng(7).normal(0, 6.0, pixels.shape).astype(np.int16)
    noisy = Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    noisy.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def multipart(fields: dict[str, str], photo: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        header = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(f"{header}{value}\r\n".encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="selfie.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n".encode()
        + photo
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@dataclass
class Upload:
    status: int
    total_ms: float
    after_send_ms: float


def post_upload(port: int, body: bytes, content_type: str, timeout: float, query: str = "") -> Upload:
    started = time.perf_counter()
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        path = f"/api/v1/jobs/?{query}" if query else "/api/v1/jobs/"
        connection.request("POST", path, body=body, headers={"Content-Type": content_type})
        sent = time.perf_counter()
        response = connection.getresponse()
        response.read()
        done = time.perf_counter()
        return Upload(response.status, (done - started) * 1000, (done - sent) * 1000)
    finally:
        connection.close()


def get_json(port: int, path: str) -> object:
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return json.loads(response.read())
    finally:
        connection.close()


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def summary(values: list[float]) -> str:
    if not values:
        return "no samples"
    return (
        f"p50 {statistics.median(values):7.1f} ms   p95 {percentile(values, 0.95):7.1f} ms   "
        f"max {max(values):7.1f} ms   (n={len(values)})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--uploads", type=int, default=200, help="total uploads (default 200)")
    parser.add_argument("--concurrency", type=int, default=50, help="uploads started together per round")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--time-limit", type=float, default=600, help="seconds for all rounds together")
    parser.add_argument("--keep", action="store_true", help="keep the temporary var folder")
    args = parser.parse_args()
    rounds = max(1, -(-args.uploads // args.concurrency))

    photo = phone_selfie()
    var_dir = Path(tempfile.mkdtemp(prefix="proportrait-bench-web-"))
    env = embedded_env(var_dir, uploads_per_hour=args.uploads * 10 + 100)
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True)

    port = free_port()
    log_path = var_dir / "gunicorn.log"
    command = [
        python,
        "-m",
        "gunicorn",
        "proportrait.wsgi:application",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--timeout",
        "120",
        "--no-control-socket",
        "--backlog",
        "2048",
        "--access-logfile",
        str(log_path),
        "--access-logformat",
        ACCESS_LOG_FORMAT,
    ]
    server = subprocess.Popen(command, cwd=REPO, env=env, start_new_session=True)
    uploads: list[Upload] = []
    try:
        deadline = time.monotonic() + 90
        consent: object = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                consent = get_json(port, "/api/v1/consent/current/")
                break
            except OSError:
                time.sleep(0.3)
        if consent is None:
            print("bench_web: the web server did not start", file=sys.stderr)
            return 1
        [biometric] = [doc for doc in consent if doc["kind"] == "biometric"]  # type: ignore[union-attr]
        fields = {
            "style": "corporate-grey",
            "consent": "true",
            "consent_version": str(biometric["version"]),
            "signature": "Bench Mark Example",
        }
        body, content_type = multipart(fields, photo)

        # Warm-up: one upload per gunicorn thread, so imports and first connections are not timed.
        slots = args.workers * args.threads
        with ThreadPoolExecutor(slots) as pool:
            list(pool.map(lambda _: post_upload(port, body, content_type, 60), range(slots)))

        stop_at = time.monotonic() + args.time_limit
        with ThreadPoolExecutor(args.concurrency) as pool:
            for _ in range(rounds):
                if time.monotonic() > stop_at:
                    print("bench_web: time limit reached; stopping early", file=sys.stderr)
                    break
                count = min(args.concurrency, args.uploads - len(uploads))
                barrier = threading.Barrier(count)

                def one(_: int, barrier: threading.Barrier = barrier) -> Upload:
                    barrier.wait(timeout=30)
                    return post_upload(port, body, content_type, 120, TIMED_QUERY)

                uploads.extend(pool.map(one, range(count)))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)

    server_ms: list[float] = []
    for line in log_path.read_text().splitlines():
        if line.startswith(f"BENCH POST /api/v1/jobs/ {TIMED_QUERY} "):
            server_ms.append(int(line.split()[-1]) / 1000)
    statuses: dict[int, int] = {}
    for upload in uploads:
        statuses[upload.status] = statuses.get(upload.status, 0) + 1
    accepted = [upload for upload in uploads if upload.status == 201]

    print(
        f"bench_web  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  {platform.node()}  {os.cpu_count()} CPUs  "
        f"Python {platform.python_version()}"
    )
    worker_class = "gthread" if args.threads > 1 else "sync"
    print(
        f"  gunicorn: {args.workers} workers x {args.threads} threads ({worker_class}), embedded stack "
        "(SQLite, local storage, filesystem broker), no Celery worker"
    )
    print(f"  photo: 3024x4032 JPEG, {len(photo) / 1e6:.2f} MB; request body {len(body) / 1e6:.2f} MB")
    print(f"  uploads: {len(uploads)} in rounds of {args.concurrency} started together; statuses {statuses}")
    print(f"  server (gunicorn request time): {summary(server_ms)}")
    print(f"  client after-send:              {summary([u.after_send_ms for u in accepted])}")
    print(f"  client total:                   {summary([u.total_ms for u in accepted])}")
    if args.keep:
        print(f"  var folder kept: {var_dir}")
    else:
        shutil.rmtree(var_dir, ignore_errors=True)
    return 0 if accepted and len(accepted) == len(uploads) else 1


if __name__ == "__main__":
    sys.exit(main())
