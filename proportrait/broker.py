"""kombu's filesystem transport (the embedded default's broker), hardened for a full disk.

- A message is written to a hidden temporary file and renamed into the queue folder, so a
  reader never sees a half-written (or, on a full disk, empty) message.
- A message that cannot be decoded is moved to the quarantine folder and skipped, instead of
  killing the worker on every start.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
import uuid
from queue import Empty
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)


class Channel(filesystem.Channel):
    def _put(self, queue: Any, payload: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        name = f"{round(time.monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final_path = os.path.join(self.data_folder_out, name)
        temporary_path = os.path.join(self.data_folder_out, f".{name}.tmp")
        try:
            with open(temporary_path, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary_path, final_path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.remove(temporary_path)
            raise ChannelError(f"Cannot add a message to queue {queue!r}") from exc

    def _get(self, queue: Any, timeout: Any = None) -> Any:
        suffix = f"{queue}.msg"
        processed_folder = self.processed_folder if self.store_processed else tempfile.gettempdir()
        for filename in sorted(os.listdir(self.data_folder_in)):
            if filename.startswith(".") or filename.partition(".")[2] != suffix:
                continue
            source = os.path.join(self.data_folder_in, filename)
            taken = os.path.join(processed_folder, filename)
            try:
                shutil.move(source, processed_folder)  # taking it is the lock: one reader wins
            except OSError:
                continue
            try:
                with open(taken, "rb") as handle:
                    payload = handle.read()
                message = loads(bytes_to_str(payload))
                if not isinstance(message, dict):
                    raise ValueError("not a message")
            except (OSError, ValueError, UnicodeDecodeError):
                self._quarantine(taken, filename)
                continue
            if not self.store_processed:
                with contextlib.suppress(OSError):
                    os.remove(taken)
            return message
        raise Empty()

    def _quarantine(self, path: str, filename: str) -> None:
        folder = self.transport_options.get("quarantine_folder") or os.path.join(self.data_folder_in, "..")
        try:
            os.makedirs(folder, exist_ok=True)
            shutil.move(path, os.path.join(folder, filename))
        except OSError:
            with contextlib.suppress(OSError):
                os.remove(path)
        logger.error("broker message %s is unreadable; moved to quarantine and skipped", filename)


class Transport(filesystem.Transport):
    Channel = Channel


def register() -> None:
    """Make `filesystem://` URLs use this transport (in every process that imports Celery's app)."""
    from kombu.transport import TRANSPORT_ALIASES

    TRANSPORT_ALIASES["filesystem"] = "proportrait.broker:Transport"
