"""The volatile key store: the only place an original photo's data key exists while its job runs.

An original's data key must never reach durable storage, so that no database backup, disk
snapshot or storage copy can ever open an original (DESIGN.md, "The photo's life", step 3). It
lives here instead, wrapped by the master key, with a time-to-live equal to the dead-man limit:

- production (`PROPORTRAIT_KEYSTORE_URL`, default `REDIS_URL`): Redis without persistence. The
  store refuses a Redis that shows RDB snapshots or an append-only file switched on.
- the embedded default: a small key-holder process that keeps the keys in its memory and
  answers the web and worker processes over a Unix socket under `var/keyholder/` (folder 0700,
  socket 0600, callers must run as the same user). `scripts/run_embedded.py` starts it with the
  web server and the worker; any process that finds no holder starts one, which ends itself
  once it has held nothing for a while.

If the key is gone (TTL passed, holder or Redis restarted) the original can never be read: the
job fails with `original_unavailable` and the person is asked to upload again.

The key-holder half of this module (`KeyHolder`, `serve`, `main`) imports no Django, so
`python -m portraits.keystore serve --socket PATH` runs without settings.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import json
import logging
import os
import socket
import socketserver
import struct
import subprocess
import sys
import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from proportrait.outage import ServiceUnavailable

logger = logging.getLogger(__name__)

REDIS_PREFIX = "proportrait:original-key:"
MAX_MESSAGE_BYTES = 64 * 1024
CONNECT_TIMEOUT_SECONDS = 5.0
SPAWNED_HOLDER_IDLE_EXIT_SECONDS = 120


class KeyStoreUnavailable(ServiceUnavailable):
    """The volatile key store cannot be reached: nothing can be encrypted or read right now.

    An outage like any other: uploads get 503 `service_unavailable` (nothing stored), and a job
    that meets it is retried inside the dead-man window (`portraits.faults.is_transient`)."""

    def __init__(self, reason: str = "key_store") -> None:
        super().__init__(reason)


class KeyStoreNotVolatile(KeyStoreUnavailable):
    """The configured Redis writes its data to disk, so it is no place for an original's key.

    A kind of unavailability: uploads are refused (nothing stored) until the store is fixed;
    `manage.py check --deploy` reports it before that (`check_keystore_is_volatile`).
    """


class VolatileKeyStore(Protocol):
    """Values by name, each forgotten after its time-to-live. Raises KeyStoreUnavailable."""

    def put(self, name: str, value: bytes, ttl_seconds: int) -> None: ...

    def get(self, name: str) -> bytes | None: ...

    def delete(self, name: str) -> bool: ...


# --- Production: Redis without persistence


class RedisKeyStore:
    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=CONNECT_TIMEOUT_SECONDS)
        self._checked = False

    def _client(self) -> Any:
        if not self._checked:
            self.check_volatile()
            self._checked = True
        return self._redis

    def check_volatile(self) -> None:
        """Refuse a Redis that snapshots (RDB `save`) or logs (AOF) its data to disk."""
        import redis

        try:
            save = self._redis.config_get("save").get("save", "")
            appendonly = self._redis.config_get("appendonly").get("appendonly", "no")
        except redis.ResponseError:
            # Managed services often forbid CONFIG: the operator must vouch for it (README).
            logger.warning("key store: Redis does not allow CONFIG; cannot prove it keeps nothing on disk")
            return
        except redis.RedisError as error:
            raise KeyStoreUnavailable(type(error).__name__) from None
        if (save or "").strip() or str(appendonly).lower() == "yes":
            logger.error("key store: the Redis at PROPORTRAIT_KEYSTORE_URL persists data; uploads refused")
            raise KeyStoreNotVolatile(
                "The Redis at PROPORTRAIT_KEYSTORE_URL persists data (save="
                f"{save!r}, appendonly={appendonly!r}). Originals' keys need a Redis with "
                "`save ''` and `appendonly no`."
            )

    def put(self, name: str, value: bytes, ttl_seconds: int) -> None:
        import redis

        try:
            self._client().set(REDIS_PREFIX + name, value, ex=max(1, int(ttl_seconds)))
        except redis.RedisError as error:
            raise KeyStoreUnavailable(type(error).__name__) from None

    def get(self, name: str) -> bytes | None:
        import redis

        try:
            value = self._client().get(REDIS_PREFIX + name)
        except redis.RedisError as error:
            raise KeyStoreUnavailable(type(error).__name__) from None
        return bytes(value) if value is not None else None

    def delete(self, name: str) -> bool:
        import redis

        try:
            return bool(self._client().delete(REDIS_PREFIX + name))
        except redis.RedisError as error:
            raise KeyStoreUnavailable(type(error).__name__) from None


# --- Embedded default: a key-holder process over a Unix socket


class KeyHolder:
    """Values in this process's memory only, each with an expiry on the monotonic clock."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[bytes, float]] = {}
        self._lock = threading.Lock()
        self.last_active = time.monotonic()

    def _expire(self, now: float) -> None:
        for name in [name for name, (_, expires) in self._values.items() if expires <= now]:
            del self._values[name]

    def put(self, name: str, value: bytes, ttl_seconds: float) -> None:
        with self._lock:
            now = time.monotonic()
            self._expire(now)
            self._values[name] = (value, now + max(1.0, float(ttl_seconds)))
            self.last_active = now

    def get(self, name: str) -> bytes | None:
        with self._lock:
            now = time.monotonic()
            self._expire(now)
            entry = self._values.get(name)
            return entry[0] if entry else None

    def delete(self, name: str) -> bool:
        with self._lock:
            self._expire(time.monotonic())
            return self._values.pop(name, None) is not None

    def count(self) -> int:
        with self._lock:
            self._expire(time.monotonic())
            return len(self._values)

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        operation = request.get("op")
        name = str(request.get("name", ""))
        if operation in {"ping", "shutdown"}:
            return {"ok": True}
        if not name:
            return {"ok": False, "error": "name required"}
        if operation == "put":
            self.put(name, base64.b64decode(request["value"]), float(request["ttl"]))
            return {"ok": True}
        if operation == "get":
            value = self.get(name)
            return {"ok": True, "value": base64.b64encode(value).decode() if value is not None else None}
        if operation == "delete":
            return {"ok": True, "deleted": self.delete(name)}
        return {"ok": False, "error": "unknown operation"}


def _peer_uid(connection: socket.socket) -> int | None:
    if not hasattr(socket, "SO_PEERCRED"):
        return None
    credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", credentials)
    return int(uid)


class _Handler(socketserver.StreamRequestHandler):
    server: _HolderServer

    def handle(self) -> None:
        peer = _peer_uid(self.request)
        if peer is not None and peer != os.getuid():
            return  # another user: say nothing
        line = self.rfile.readline(MAX_MESSAGE_BYTES)
        try:
            answer = self.server.holder.answer(json.loads(line))
        except (ValueError, KeyError, TypeError):
            answer = {"ok": False, "error": "bad request"}
        self.wfile.write(json.dumps(answer).encode() + b"\n")
        if answer.get("ok") and json.loads(line).get("op") == "shutdown":
            # Forgets every key: used by `make run`'s stop and by tests.
            threading.Thread(target=self.server.shutdown, daemon=True).start()


class _HolderServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str, holder: KeyHolder) -> None:
        self.holder = holder
        super().__init__(path, _Handler)


def _harden_process() -> None:
    """No core dumps, and (Linux) no ptrace by other processes of the same user."""
    import resource

    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 0


def serve(socket_path: Path, *, idle_exit_seconds: float = 0) -> int:
    """Run a key holder on `socket_path` until stopped (or idle, when idle_exit_seconds > 0).

    Exits at once (0) when another holder already serves that path.
    """
    folder = socket_path.parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    lock = (folder / (socket_path.name + ".lock")).open("a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return 0
    _harden_process()
    with contextlib.suppress(FileNotFoundError):
        socket_path.unlink()
    holder = KeyHolder()
    previous_umask = os.umask(0o177)
    try:
        server = _HolderServer(str(socket_path), holder)
    finally:
        os.umask(previous_umask)
    os.chmod(socket_path, 0o600)

    def watch_idle() -> None:
        while True:
            time.sleep(1.0)
            if holder.count() == 0 and time.monotonic() - holder.last_active > idle_exit_seconds:
                server.shutdown()
                return

    if idle_exit_seconds > 0:
        threading.Thread(target=watch_idle, daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
        with contextlib.suppress(FileNotFoundError):
            socket_path.unlink()
        lock.close()
    return 0


class SocketKeyStore:
    """Client of the key holder at `socket_path`; starts one when none answers."""

    def __init__(self, socket_path: Path, *, spawn: bool = True) -> None:
        self.socket_path = socket_path
        self.spawn = spawn

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._send(request)
        except (FileNotFoundError, ConnectionRefusedError):
            if not self.spawn:
                raise KeyStoreUnavailable("no key holder") from None
        self._start_holder()
        deadline = time.monotonic() + CONNECT_TIMEOUT_SECONDS
        while True:
            try:
                return self._send(request)
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    raise KeyStoreUnavailable("the key holder did not start") from None
                time.sleep(0.05)

    def _send(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
                connection.settimeout(CONNECT_TIMEOUT_SECONDS)
                connection.connect(str(self.socket_path))
                connection.sendall(json.dumps(request).encode() + b"\n")
                with connection.makefile("rb") as reader:
                    line = reader.readline(MAX_MESSAGE_BYTES)
        except (FileNotFoundError, ConnectionRefusedError):
            raise
        except OSError as error:
            raise KeyStoreUnavailable(type(error).__name__) from None
        if not line:
            raise KeyStoreUnavailable("the key holder closed the connection")
        answer: dict[str, Any] = json.loads(line)
        if not answer.get("ok"):
            raise KeyStoreUnavailable(str(answer.get("error", "refused")))
        return answer

    def _start_holder(self) -> None:
        package_root = Path(__file__).resolve().parent.parent
        subprocess.Popen(  # noqa: S603 (our own interpreter and module, no outside input)
            [
                sys.executable,
                "-m",
                "portraits.keystore",
                "serve",
                "--socket",
                str(self.socket_path),
                "--idle-exit-seconds",
                str(SPAWNED_HOLDER_IDLE_EXIT_SECONDS),
            ],
            cwd=package_root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )

    def shutdown(self) -> None:
        """Stop the holder (every key it holds is forgotten); nothing to do if none runs."""
        with contextlib.suppress(FileNotFoundError, ConnectionRefusedError, KeyStoreUnavailable):
            self._send({"op": "shutdown"})

    def put(self, name: str, value: bytes, ttl_seconds: int) -> None:
        self._ask({"op": "put", "name": name, "value": base64.b64encode(value).decode(), "ttl": ttl_seconds})

    def get(self, name: str) -> bytes | None:
        value = self._ask({"op": "get", "name": name}).get("value")
        return base64.b64decode(value) if value is not None else None

    def delete(self, name: str) -> bool:
        return bool(self._ask({"op": "delete", "name": name}).get("deleted"))


# --- Choosing the store (Django side)


def default_socket_path(var_dir: Path) -> Path:
    return var_dir / "keyholder" / "keys.sock"


@lru_cache(maxsize=8)
def _store_for(url: str, socket_path: str) -> VolatileKeyStore:
    if url:
        return RedisKeyStore(url)
    return SocketKeyStore(Path(socket_path))


def get_keystore() -> VolatileKeyStore:
    """The configured store: Redis at PROPORTRAIT_KEYSTORE_URL, else the local key holder."""
    from django.conf import settings

    return _store_for(settings.PROPORTRAIT_KEYSTORE_URL, str(settings.PROPORTRAIT_KEYSTORE_SOCKET))


def check_keystore_is_volatile(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Deploy check: the production key store is reachable and keeps nothing on disk."""
    from django.conf import settings
    from django.core import checks

    if not settings.PROPORTRAIT_KEYSTORE_URL:
        return []  # the embedded key holder keeps keys in its memory only
    store = get_keystore()
    if not isinstance(store, RedisKeyStore):
        return []
    try:
        store.check_volatile()
    except KeyStoreNotVolatile as error:
        return [checks.Error(str(error), id="portraits.E001")]
    except KeyStoreUnavailable as error:
        return [checks.Warning(f"The key store cannot be reached ({error}).", id="portraits.W001")]
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portraits.keystore", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run a key holder")
    serve_parser.add_argument("--socket", required=True, type=Path)
    serve_parser.add_argument(
        "--idle-exit-seconds", type=float, default=0, help="exit after holding nothing this long (0: never)"
    )
    arguments = parser.parse_args(argv)
    return serve(arguments.socket, idle_exit_seconds=arguments.idle_exit_seconds)


if __name__ == "__main__":
    sys.exit(main())
