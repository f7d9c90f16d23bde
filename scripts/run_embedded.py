"""Run the embedded default on one machine: web server, Celery worker (queues gpu and default)
and the scheduler, together. Ctrl-C stops all of them.

SQLite, the local ciphertext store, a broker without a server (kombu's filesystem transport)
and the studio backend, all under ./var. Secrets are generated once into var/secrets.env
(mode 600) unless SECRET_KEY and PROPORTRAIT_MASTER_KEYS are already set; the audit-log keys
(PROPORTRAIT_AUDIT_HMAC_KEYS, PROPORTRAIT_AUDIT_SIGNING_KEYS) are added to it the same way.
"""

from __future__ import annotations

import base64
import os
import secrets
import signal
import subprocess
import sys
import time
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

    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True)
    subprocess.run(
        [python, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True
    )

    commands = {
        "web": [
            python,
            "-m",
            "gunicorn",
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
    processes = {
        name: subprocess.Popen(command, cwd=REPO, env=env, start_new_session=True)
        for name, command in commands.items()
    }
    print(
        f"run: ProPortrait is at http://{host}:{port}/  (mail is written to {var_dir / 'mail'}); "
        "Ctrl-C stops everything"
    )

    def stop(*_: object) -> None:
        for process in processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    # Ctrl-C arrives as KeyboardInterrupt; a service manager's SIGTERM or a closed terminal's
    # SIGHUP stop everything the same way.
    for stop_signal in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop_signal, lambda *_: (stop(), sys.exit(0)))
    try:
        while all(process.poll() is None for process in processes.values()):
            time.sleep(0.5)
        failed = [name for name, process in processes.items() if process.poll() is not None]
        print(f"run: {', '.join(failed)} stopped; stopping the rest", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nrun: stopping")
        return 0
    finally:
        stop()


if __name__ == "__main__":
    sys.exit(main())
