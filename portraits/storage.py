"""Object storage for ciphertext. The one module that touches the storage backend."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages


def private_storage() -> Storage:
    return storages["private"]


def put_object(key: str, data: bytes) -> str:
    """Store bytes under exactly `key` (never renamed); returns the key."""
    storage = private_storage()
    if storage.exists(key):
        storage.delete(key)
    saved = storage.save(key, ContentFile(data))
    if saved != key:
        raise RuntimeError(f"storage renamed {key!r} to {saved!r}")
    return saved


def get_object(key: str) -> bytes:
    with private_storage().open(key, "rb") as handle:
        return handle.read()


def delete_object(key: str) -> bool:
    """Delete if present; True when something was deleted."""
    storage = private_storage()
    if not key or not storage.exists(key):
        return False
    storage.delete(key)
    return True


def object_exists(key: str) -> bool:
    return bool(key) and private_storage().exists(key)


def delete_prefix(prefix: str) -> int:
    """Delete every object whose key starts with `prefix` (a folder, ending in '/'); returns how many."""
    storage = private_storage()
    folder = prefix.rstrip("/")
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
