"""Object storage for ciphertext. The one module that touches the storage backend.

Every failure of the backend itself (unreachable, timing out, disk full, a 5xx answer) is raised
as `StorageUnavailable`, so callers can tell "try again shortly" from "this object is missing".
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages


class StorageUnavailable(Exception):
    """The object store could not be reached or refused to work (a transient fault)."""


def _is_backend_fault(error: BaseException) -> bool:
    if isinstance(error, FileNotFoundError):
        return False
    if isinstance(error, OSError):
        return True
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # pragma: no cover - botocore ships with django-storages[s3]
        return False
    if isinstance(error, BotoCoreError):
        return True
    if isinstance(error, ClientError):
        response = getattr(error, "response", {}) or {}
        status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        code = str(response.get("Error", {}).get("Code", ""))
        return status >= 500 or code in {"SlowDown", "Throttling", "RequestTimeout", "ServiceUnavailable"}
    return False


@contextlib.contextmanager
def _backend_call() -> Iterator[None]:
    try:
        yield
    except StorageUnavailable:
        raise
    except Exception as error:
        if _is_backend_fault(error):
            # The type only: messages can quote paths or credentials of the endpoint.
            raise StorageUnavailable(type(error).__name__) from error
        raise


def private_storage() -> Storage:
    return storages["private"]


def put_object(key: str, data: bytes) -> str:
    """Store bytes under exactly `key` (never renamed); returns the key."""
    storage = private_storage()
    with _backend_call():
        if storage.exists(key):
            storage.delete(key)
        saved = storage.save(key, ContentFile(data))
    if saved != key:
        raise RuntimeError(f"storage renamed {key!r} to {saved!r}")
    return saved


def get_object(key: str) -> bytes:
    with _backend_call(), private_storage().open(key, "rb") as handle:
        return handle.read()


def delete_object(key: str) -> bool:
    """Delete if present; True when something was deleted."""
    storage = private_storage()
    with _backend_call():
        if not key or not storage.exists(key):
            return False
        storage.delete(key)
    return True


def object_exists(key: str) -> bool:
    with _backend_call():
        return bool(key) and private_storage().exists(key)


def delete_prefix(prefix: str) -> int:
    """Delete every object whose key starts with `prefix` (a folder, ending in '/'); returns how many."""
    storage = private_storage()
    folder = prefix.rstrip("/")
    with _backend_call():
        try:
            subfolders, files = storage.listdir(folder)
        except (FileNotFoundError, NotADirectoryError):
            return 0
        deleted = 0
        for name in files:
            storage.delete(f"{folder}/{name}")
            deleted += 1
    for subfolder in subfolders:
        deleted += delete_prefix(f"{folder}/{subfolder}/")
    return deleted


def list_objects(prefix: str) -> list[tuple[str, datetime]]:
    """(key, last modified) of every object directly under `prefix` (a folder, ending in '/')."""
    storage = private_storage()
    folder = prefix.rstrip("/")
    with _backend_call():
        try:
            _, files = storage.listdir(folder)
        except (FileNotFoundError, NotADirectoryError):
            return []
        listed = []
        for name in files:
            key = f"{folder}/{name}"
            try:
                listed.append((key, storage.get_modified_time(key)))
            except FileNotFoundError:
                continue  # deleted between listing and asking
    return listed
