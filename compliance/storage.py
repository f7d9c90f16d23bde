"""The one module where compliance touches object storage: encrypted export files.

An export is encrypted with its own AES-256-GCM data key, which the caller keeps wrapped by a
master key (portraits.crypto) and wipes when the export expires: once the key is gone, the
object, and any copy of it in a storage backup, is unreadable.
"""

from __future__ import annotations

import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages

NONCE_BYTES = 12
PREFIX = "compliance/exports/"


def _storage() -> Storage:
    return storages["private"]


def store_encrypted(name: str, plaintext: bytes, raw_key: bytes) -> str:
    """Encrypt with `raw_key` and store under compliance/exports/<name>; returns the storage key."""
    nonce = os.urandom(NONCE_BYTES)
    key = PREFIX + name
    blob = nonce + AESGCM(raw_key).encrypt(nonce, plaintext, key.encode())
    storage = _storage()
    if storage.exists(key):
        storage.delete(key)
    saved = storage.save(key, ContentFile(blob))
    if saved != key:
        raise RuntimeError(f"storage renamed {key!r} to {saved!r}")
    return key


def read_decrypted(key: str, raw_key: bytes) -> bytes:
    with _storage().open(key, "rb") as handle:
        blob = handle.read()
    return AESGCM(raw_key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], key.encode())


def delete_object(key: str) -> bool:
    storage = _storage()
    if not key or not storage.exists(key):
        return False
    storage.delete(key)
    return True


def object_exists(key: str) -> bool:
    return bool(key) and _storage().exists(key)


# --- Signed audit checkpoints: plain JSON (they are public), written once, never overwritten.

CHECKPOINT_PREFIX = "audit/checkpoints/"


def append_object(key: str, content: bytes) -> str:
    """Store a new object under `key`; refuse to replace one that exists (append-only)."""
    storage = _storage()
    if storage.exists(key):
        raise FileExistsError(f"{key} exists; published checkpoints are never overwritten")
    saved = storage.save(key, ContentFile(content))
    if saved != key:
        raise RuntimeError(f"storage renamed {key!r} to {saved!r}")
    return key


def list_objects(prefix: str) -> list[str]:
    """Keys of the objects directly under `prefix`, sorted."""
    storage = _storage()
    try:
        _, files = storage.listdir(prefix.rstrip("/"))
    except FileNotFoundError:
        return []
    return sorted(prefix + name for name in files)


def read_object(key: str) -> bytes:
    with _storage().open(key, "rb") as handle:
        return bytes(handle.read())
