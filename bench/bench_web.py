"""Web tier benchmark: upload latency as a client sees it, beside a floor server, in one run.

DESIGN.md target (2 cores, 3 MB uploads): p95 at most 150 ms with open-loop arrivals at
20 uploads/s, and at most 2x a floor server's p95 in a burst of 50 simultaneous uploads.

What is measured: for each upload, the client's time from starting to send the request
(connect) to having read the whole response, on loopback. That includes waiting in the listen
backlog and for a free gunicorn thread, which gunicorn's own request time (`%(D)s`, which in
gunicorn 27 starts after the headers are parsed) leaves out. On loopback the 3 MB body is sent
in milliseconds: this is what the app sees behind a buffering reverse proxy (README), which
absorbs the slow transfer of a real client.

Two loads, each run against two servers started by this script with the same gunicorn
configuration, one after the other in the same run:
  - the product (`proportrait.wsgi`), on the chosen stack;
  - the floor (`bench/floor_app.py`): reads the body and answers 201, nothing else.
(a) open loop: Poisson arrivals at --rate uploads/s for --duration seconds; each upload starts at
    its scheduled time whatever the others are doing (the client never waits for the server);
(b) burst: --burst uploads started together behind a barrier, --bursts times.

Stacks: `embedded` (SQLite, local storage, filesystem broker, in a temporary var folder) or
`production` (PostgreSQL + Redis from --database-url/--redis-url/--broker-url; the database is
created if missing and dropped afterwards when this script created it). No Celery worker runs:
jobs are queued and stay queued, which is all the upload path does.

Only 127.0.0.1 is contacted; every load is bounded in uploads and time. Results are printed and
written as JSON (--out).

    .venv/bin/python bench/bench_web.py [--stack embedded|production] [--rate 20] [--duration 10]
        [--burst 50] [--bursts 3] [--workers 2] [--threads 4] [--out bench-web.json]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import io
import json
import math
import os
import platform
import random
import secrets
import shutil
import signal
import socket
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
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
OUTSIDE_SERVICES = {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "PROPORTRAIT_S3_BUCKET", "EMAIL_HOST"}
UPLOAD_TIMEOUT_SECONDS = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def stack_env(var_dir: Path, args: argparse.Namespace) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in OUTSIDE_SERVICES}
    env.update(
        {
            "PROPORTRAIT_VAR_DIR": str(var_dir),
            "SECRET_KEY": secrets.token_urlsafe(50),
            "PROPORTRAIT_MASTER_KEYS": "bench:" + base64.b64encode(secrets.token_bytes(32)).decode(),
            "PROPORTRAIT_AUDIT_HMAC_KEYS": "bench:" + base64.b64encode(secrets.token_bytes(32)).decode(),
            "PROPORTRAIT_AUDIT_SIGNING_KEYS": "bench:" + base64.b64encode(secrets.token_bytes(32)).decode(),
            "PROPORTRAIT_UPLOADS_PER_HOUR": "1000000",
            "PYTHONUNBUFFERED": "1",
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
        }
    )
    if args.stack == "production":
        env.update(
            {
                "DATABASE_URL": args.database_url,
                "REDIS_URL": args.redis_url,
                "CELERY_BROKER_URL": args.broker_url,
            }
        )
    for folder in ("broker/queue", "broker/processed", "storage", "mail"):
        (var_dir / folder).mkdir(parents=True, exist_ok=True)
    return env


def ensure_database(url: str) -> bool:
    """Create the PostgreSQL database named in `url` if it is missing; True when created."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit((parts.scheme.replace("postgres", "postgresql", 1), parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return False
        connection.execute(f'CREATE DATABASE "{name}"')
    return True


def drop_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit((parts.scheme.replace("postgres", "postgresql", 1), parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')


def phone_selfie(width: int = 2448, height: int = 3264, quality: int = 95) -> bytes:
    """A phone-like portrait JPEG of a real face (scikit-image's astronaut), upscaled with
    sensor-like noise so it compresses like a phone photo: about 3 MB."""
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
    latency_ms: float  # connect -> whole response read
    lag_ms: float  # how late the client started it against its schedule (open loop)


def post_upload(port: int, body: bytes, content_type: str, scheduled: float | None = None) -> Upload:
    started = time.perf_counter()
    lag = (started - scheduled) * 1000 if scheduled is not None else 0.0
    connection = http.client.HTTPConnection(HOST, port, timeout=UPLOAD_TIMEOUT_SECONDS)
    try:
        connection.request("POST", "/api/v1/jobs/", body=body, headers={"Content-Type": content_type})
        response = connection.getresponse()
        response.read()
        return Upload(response.status, (time.perf_counter() - started) * 1000, lag)
    except OSError:
        return Upload(0, (time.perf_counter() - started) * 1000, lag)
    finally:
        connection.close()


def get_json(port: int, path: str) -> Any:
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        connection.request("GET", path)
        return json.loads(connection.getresponse().read())
    finally:
        connection.close()


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)] if ordered else float("nan")


def summarise(uploads: list[Upload]) -> dict[str, Any]:
    latencies = [upload.latency_ms for upload in uploads]
    statuses: dict[str, int] = {}
    for upload in uploads:
        statuses[str(upload.status)] = statuses.get(str(upload.status), 0) + 1
    return {
        "n": len(uploads),
        "statuses": statuses,
        "p50_ms": round(percentile(latencies, 0.5), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "max_ms": round(max(latencies, default=float("nan")), 1),
        "client_lag_p95_ms": round(percentile([upload.lag_ms for upload in uploads], 0.95), 1),
    }


def open_loop(
    port: int, body: bytes, content_type: str, rate: float, duration: float, seed: int
) -> list[Upload]:
    """Poisson arrivals at `rate`/s for `duration` s; each upload starts on schedule."""
    generator = random.Random(seed)
    arrivals = []
    moment = 0.0
    while True:
        moment += generator.expovariate(rate)
        if moment >= duration:
            break
        arrivals.append(moment)
    # Enough threads that no arrival ever waits for one (the loop is open).
    with ThreadPoolExecutor(max_workers=min(512, max(32, int(rate * 10)))) as pool:
        origin = time.perf_counter() + 0.2
        futures = []
        for offset in arrivals:
            scheduled = origin + offset
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(post_upload, port, body, content_type, scheduled))
        return [future.result() for future in futures]


def bursts(port: int, body: bytes, content_type: str, size: int, count: int, pause: float) -> list[Upload]:
    uploads: list[Upload] = []
    with ThreadPoolExecutor(max_workers=size) as pool:
        for index in range(count):
            if index:
                time.sleep(pause)
            barrier = threading.Barrier(size)

            def one(_: int, barrier: threading.Barrier = barrier) -> Upload:
                barrier.wait(timeout=30)
                return post_upload(port, body, content_type)

            uploads.extend(pool.map(one, range(size)))
    return uploads


class Server:
    """gunicorn serving `app` with the benchmark's configuration, in its own process group."""

    def __init__(self, app: str, env: dict[str, str], args: argparse.Namespace) -> None:
        self.port = free_port()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            app,
            "--bind",
            f"{HOST}:{self.port}",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--backlog",
            "2048",
            "--no-control-socket",
            "--log-level",
            "warning",
        ]
        self.process = subprocess.Popen(command, cwd=REPO, env=env, start_new_session=True)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the gunicorn master and its workers (Linux):
        what the server spent, however much of the machine the neighbours took."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # fields[2] is the process group; [11], [12] utime and stime (stat(5), from field 3).
            if int(fields[2]) == self.process.pid:
                total += (int(fields[11]) + int(fields[12])) / ticks
        return total

    def wait_ready(self, path: str) -> Any:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                return get_json(self.port, path)
            except (OSError, ValueError):
                time.sleep(0.3)
        raise RuntimeError(f"server on port {self.port} did not start")

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)


def run_loads(server: Server, body: bytes, content_type: str, args: argparse.Namespace) -> dict[str, Any]:
    # Warm-up: one upload per gunicorn thread, so imports and first connections are not timed.
    slots = args.workers * args.threads
    with ThreadPoolExecutor(slots) as pool:
        list(pool.map(lambda _: post_upload(server.port, body, content_type), range(slots)))
    results = {}
    before = server.cpu_seconds()
    uploads = open_loop(server.port, body, content_type, args.rate, args.duration, args.seed)
    results["open_loop"] = summarise(uploads)
    results["open_loop"]["server_cpu_ms_per_upload"] = round(
        1000 * (server.cpu_seconds() - before) / len(uploads), 1
    )
    time.sleep(args.pause)
    before = server.cpu_seconds()
    uploads = bursts(server.port, body, content_type, args.burst, args.bursts, args.pause)
    results["burst"] = summarise(uploads)
    results["burst"]["server_cpu_ms_per_upload"] = round(
        1000 * (server.cpu_seconds() - before) / len(uploads), 1
    )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stack", choices=["embedded", "production"], default="embedded")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/bench_web")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--broker-url", default="redis://127.0.0.1:6379/1")
    parser.add_argument("--rate", type=float, default=20.0, help="open-loop arrivals per second (default 20)")
    parser.add_argument("--duration", type=float, default=10.0, help="open-loop seconds (default 10)")
    parser.add_argument("--burst", type=int, default=50, help="uploads per burst (default 50)")
    parser.add_argument("--bursts", type=int, default=3, help="bursts per server (default 3)")
    parser.add_argument("--pause", type=float, default=3.0, help="seconds between loads and bursts")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="write the results here as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the temporary var folder")
    args = parser.parse_args()
    if (
        args.rate <= 0
        or not 0 < args.duration <= 120
        or not 1 <= args.burst <= 500
        or not 1 <= args.bursts <= 10
    ):
        parser.error("bounded loads only: 0 < duration <= 120 s, 1..500 per burst, 1..10 bursts")

    photo = phone_selfie()
    var_dir = Path(tempfile.mkdtemp(prefix="proportrait-bench-web-"))
    env = stack_env(var_dir, args)
    created_database = args.stack == "production" and ensure_database(args.database_url)
    results: dict[str, Any] = {}
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True
        )
        for name, app in (("floor", "bench.floor_app:application"), ("app", "proportrait.wsgi:application")):
            server = Server(app, env, args)
            try:
                if name == "app":
                    consent = server.wait_ready("/api/v1/consent/current/")
                    [biometric] = [doc for doc in consent if doc["kind"] == "biometric"]
                    version = str(biometric["version"])
                else:
                    server.wait_ready("/")
                    version = "1"
                fields = {
                    "style": "corporate-grey",
                    "consent": "true",
                    "consent_version": version,
                    "signature": "Bench Mark Example",
                }
                body, content_type = multipart(fields, photo)
                results[name] = run_loads(server, body, content_type, args)
            finally:
                server.stop()
            time.sleep(args.pause)
    finally:
        if created_database:
            drop_database(args.database_url)
        if not args.keep:
            shutil.rmtree(var_dir, ignore_errors=True)

    ratios = {
        load: round(results["app"][load]["p95_ms"] / results["floor"][load]["p95_ms"], 2)
        for load in ("open_loop", "burst")
    }
    report = {
        "benchmark": "bench_web",
        "when_utc": f"{datetime.now(UTC):%Y-%m-%d %H:%M}",
        "machine": {"node": platform.node(), "cpus": os.cpu_count(), "load_average": os.getloadavg()},
        "python": platform.python_version(),
        "stack": args.stack,
        "gunicorn": {"workers": args.workers, "threads": args.threads},
        "photo_bytes": len(photo),
        "loads": {
            "open_loop": {"rate_per_second": args.rate, "duration_seconds": args.duration},
            "burst": {"size": args.burst, "count": args.bursts},
        },
        "results": results,
        "p95_ratio_app_to_floor": ratios,
        "targets": {"open_loop_p95_ms": 150, "burst_p95_ratio": 2.0},
    }
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    every = [result for server in results.values() for result in server.values()]
    return 0 if all(set(result["statuses"]) == {"201"} for result in every) else 1


if __name__ == "__main__":
    sys.exit(main())
