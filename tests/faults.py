"""Fault injection for tests: a storage backend that can be switched off, and a broken broker."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.core.files.storage import FileSystemStorage, storages


class FailingStorage(FileSystemStorage):
    """The test's storage folder, with an off switch per operation: 'save', 'open', 'delete',
    'exists', 'listdir' (or 'all'). A switched-off operation fails the way an unreachable object
    store does: with an I/O error."""

    failing: set[str] = set()

    def _check(self, operation: str) -> None:
        if operation in self.failing or "all" in self.failing:
            raise OSError(errno.EIO, "object storage unreachable")

    def _save(self, name: str, content: Any) -> str:
        self._check("save")
        return super()._save(name, content)

    def _open(self, name: str, mode: str = "rb") -> Any:
        self._check("open")
        return super()._open(name, mode)

    def delete(self, name: str) -> None:
        self._check("delete")
        super().delete(name)

    def exists(self, name: str) -> bool:
        self._check("exists")
        return super().exists(name)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        self._check("listdir")
        return super().listdir(path)


@contextmanager
def failing_storage(settings: Any, storage_dir: Path) -> Iterator[type[FailingStorage]]:
    """Swap the private storage for a FailingStorage on the same folder; yields its class."""
    options = {"location": str(storage_dir), "base_url": None}
    backend = {"BACKEND": "tests.faults.FailingStorage", "OPTIONS": options}
    settings.STORAGES = {**settings.STORAGES, "default": backend, "private": backend}
    storages._storages = {}  # type: ignore[attr-defined]
    storages._backends = None  # type: ignore[attr-defined]
    FailingStorage.failing = set()
    try:
        yield FailingStorage
    finally:
        FailingStorage.failing = set()


def broker_down(*args: Any, **kwargs: Any) -> None:
    """Stands in for `apply_async` while the broker is unreachable (what kombu raises then)."""
    from kombu.exceptions import OperationalError

    raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")
