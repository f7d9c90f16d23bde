"""Run the embedded default on one machine: the key holder, web server, Celery worker (queues
gpu and default) and the scheduler, together. Ctrl-C stops all of them; a process that crashes
is restarted on its own (with backoff) while the others keep running.

SQLite, the local ciphertext store, a broker without a server (kombu's filesystem transport)
and the studio backend, all under ./var. Secrets are generated once into var/secrets.env
(mode 600) unless SECRET_KEY and PROPORTRAIT_MASTER_KEYS are already set; the audit-log keys
(PROPORTRAIT_AUDIT_HMAC_KEYS, PROPORTRAIT_AUDIT_SIGNING_KEYS) are added to it the same way.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def load_or_create_secrets(var_dir: Path) -> dict[str, str]:
    path = var_dir / "secrets.env"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        key_id = time.strftime("k%Y%m%d")
        master = base64.b64encode(secrets.token_bytes(32)).decode()
        content = f"SECRET_KEY={secrets.token_urlsafe(50)}\nPROPORTRAIT_MASTER_KEYS={key_id}:{master}\n"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(content)
        print(f"run: generated secrets in {path} (keep this file; it unlocks stored data)")
    values = {}
    for line in path.read_text().splitlines():
        name, _, value = line.partition("=")
        if name:
            values[name.strip()] = value.strip()
    # Audit-log keys (HMAC chain, Ed25519 checkpoint signing), added to older files too.
    missing = {
        name: f"{time.strftime('a%Y%m%d')}:{base64.b64encode(secrets.token_bytes(32)).decode()}"
        for name in ("PROPORTRAIT_AUDIT_HMAC_KEYS", "PROPORTRAIT_AUDIT_SIGNING_KEYS")
        if name not in values and name not in os.environ
    }
    if missing:
        with path.open("a") as handle:
            handle.writelines(f"{name}={value}\n" for name, value in missing.items())
        values.update(missing)
        print(f"run: added audit-log keys to {path} (keep this file; it proves the audit log)")
    return values


def site_url(host: str, port: str) -> str:
    """The address links in e-mails point at: the one this run listens on (so they work on any
    port). A wildcard bind address is not one a browser can open, so it becomes localhost."""
    if host in {"0.0.0.0", "::", "[::]", ""}:  # noqa: S104 (a comparison, not a bind)
        host = "localhost"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def main() -> int:
    var_dir = Path(os.environ.get("PROPORTRAIT_VAR_DIR", REPO / "var"))
    env = dict(os.environ)
    for name, value in load_or_create_secrets(var_dir).items():
        env.setdefault(name, value)
    env.setdefault("PROPORTRAIT_VAR_DIR", str(var_dir))
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.setdefault("GLOG_minloglevel", "2")  # mediapipe's native start-up chatter
    for folder in ("broker/queue", "broker/processed", "storage", "mail"):
        (var_dir / folder).mkdir(parents=True, exist_ok=True)
    python = sys.executable
    host = env.get("HOST", "127.0.0.1")
    port = env.get("PORT", "8000")
    env.setdefault("SITE_URL", site_url(host, port))

    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True)
    subprocess.run(
        [python, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True
    )

    commands = {
        "web": [
            python,
            "-m",
            "gunicorn",
            "-c",
            "python:proportrait.gunicorn_conf",
            "proportrait.wsgi:application",
            "--bind",
            f"{host}:{port}",
            "--workers",
            env.get("WEB_CONCURRENCY", "2"),
            "--threads",
            "4",
            "--access-logfile",
            "-",
            "--no-control-socket",
        ],
        "worker": [
            python,
            "-m",
            "celery",
            "-A",
            "proportrait",
            "worker",
            "-Q",
            "gpu,default",
            "--concurrency",
            env.get("WORKER_CONCURRENCY", "1"),
            "--beat",
            "--schedule",
            str(var_dir / "celerybeat-schedule"),
            "-l",
            "INFO",
        ],
    }
    socket_path: Path | None = None
    if not env.get("PROPORTRAIT_KEYSTORE_URL", env.get("REDIS_URL")):
        # Originals' data keys live only in the key holder's memory (never on disk); it starts
        # first so that web and worker find it, and is supervised like the others.
        socket_path = Path(env.get("PROPORTRAIT_KEYSTORE_SOCKET", var_dir / "keyholder" / "keys.sock"))
        holder = [python, "-m", "portraits.keystore", "serve", "--socket", str(socket_path)]
        commands = {"keyholder": holder, **commands}
    supervisor = Supervisor(commands, cwd=REPO, env=env)
    if socket_path is not None:
        keyholder = supervisor.services["keyholder"]
        supervisor.start(keyholder)
        deadline = time.monotonic() + 10
        while not socket_path.exists() and time.monotonic() < deadline:
            if keyholder.process is not None and keyholder.process.poll() is not None:
                break  # another holder already serves this folder; the supervisor retries later
            time.sleep(0.05)
    supervisor.start_all()
    print(
        f"run: ProPortrait is at http://{host}:{port}/  (mail is written to {var_dir / 'mail'}); "
        "Ctrl-C stops everything"
    )

    # Ctrl-C arrives as KeyboardInterrupt; a service manager's SIGTERM or a closed terminal's
    # SIGHUP stop everything the same way.
    for stop_signal in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop_signal, lambda *_: (supervisor.stop_all(), sys.exit(0)))
    try:
        while True:
            supervisor.check()
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nrun: stopping")
        return 0
    finally:
        supervisor.stop_all()


@dataclass
class Service:
    name: str
    command: list[str]
    process: subprocess.Popen[bytes] | None = None
    crashes: int = 0
    restart_at: float | None = None
    started_at: float = 0.0


class Supervisor:
    """Keeps each process running on its own: one that exits is restarted (with backoff), and the
    others go on. A crashed worker restarts the worker, never the whole product; the dead-man
    timers in the web processes keep destroying originals meanwhile."""

    backoff_seconds = (1, 2, 5, 10, 30)
    stable_after_seconds = 60.0  # running this long resets the backoff

    def __init__(self, commands: dict[str, list[str]], *, cwd: Path, env: dict[str, str]) -> None:
        self.services = {name: Service(name, command) for name, command in commands.items()}
        self.cwd = cwd
        self.env = env

    def start(self, service: Service) -> None:
        service.process = subprocess.Popen(
            service.command, cwd=self.cwd, env=self.env, start_new_session=True
        )
        service.started_at = time.monotonic()
        service.restart_at = None

    def start_all(self) -> None:
        """Start every process not already running."""
        for service in self.services.values():
            if service.process is None or service.process.poll() is not None:
                self.start(service)

    def check(self) -> None:
        """Restart every process that exited, once its backoff has passed."""
        now = time.monotonic()
        for service in self.services.values():
            process = service.process
            if process is not None and process.poll() is None:
                if now - service.started_at > self.stable_after_seconds:
                    service.crashes = 0
                continue
            if service.restart_at is None:
                delay = self.backoff_seconds[min(service.crashes, len(self.backoff_seconds) - 1)]
                service.crashes += 1
                service.restart_at = now + delay
                code = process.returncode if process is not None else None
                print(f"run: {service.name} exited ({code}); restarting it in {delay}s", file=sys.stderr)
            elif now >= service.restart_at:
                self.start(service)

    def stop_all(self, timeout_seconds: float = 15.0) -> None:
        running = [
            s.process for s in self.services.values() if s.process is not None and s.process.poll() is None
        ]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_seconds
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)


if __name__ == "__main__":
    sys.exit(main())
