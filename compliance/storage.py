"""The one module where compliance touches object storage: encrypted export files.

An export is encrypted with a fresh AES-256-GCM key that is returned to the caller (it goes
into the download link) and never stored; the database keeps only its SHA-256. Deleting the
object, or simply losing the link, leaves nothing readable.
"""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages

NONCE_BYTES = 12
PREFIX = "compliance/exports/"


def _storage() -> Storage:
    return storages["private"]


def encode_key(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_key(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        return b""
    return raw if len(raw) == 32 else b""


def key_digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def store_encrypted(name: str, plaintext: bytes) -> tuple[str, bytes]:
    """Encrypt and store under compliance/exports/<name>; returns (storage key, raw key)."""
    raw_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(NONCE_BYTES)
    key = PREFIX + name
    blob = nonce + AESGCM(raw_key).encrypt(nonce, plaintext, key.encode())
    storage = _storage()
    if storage.exists(key):
        storage.delete(key)
    saved = storage.save(key, ContentFile(blob))
    if saved != key:
        raise RuntimeError(f"storage renamed {key!r} to {saved!r}")
    return key, raw_key


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
