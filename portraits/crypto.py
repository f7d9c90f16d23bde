"""Envelope encryption: AES-256-GCM per object, data keys wrapped by a master key.

Only ciphertext reaches storage. Wiping a data key (crypto-shredding) makes every copy of its
objects unreadable, including copies in storage backups.
"""

from __future__ import annotations

import base64
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from portraits.models import DataKey, DataKeyPurpose

MAGIC = b"PPE1"
NONCE_BYTES = 12


class KeyDestroyed(Exception):
    """The data key was wiped: the object can never be read again."""


@lru_cache(maxsize=4)
def _parse_master_keys(raw: str) -> tuple[str, dict[str, bytes]]:
    keys: dict[str, bytes] = {}
    current = ""
    for item in raw.split(","):
        item = item.strip()
        if not item:
            continue
        key_id, sep, encoded = item.partition(":")
        if not sep:
            raise ImproperlyConfigured("PROPORTRAIT_MASTER_KEYS entries must look like 'id:base64key'.")
        try:
            key = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise ImproperlyConfigured(f"Master key {key_id!r} is not valid base64.") from None
        if len(key) != 32:
            raise ImproperlyConfigured(f"Master key {key_id!r} must be 32 bytes (AES-256), got {len(key)}.")
        keys[key_id] = key
        current = current or key_id
    if not keys:
        raise ImproperlyConfigured("PROPORTRAIT_MASTER_KEYS holds no key.")
    return current, keys


def master_keys() -> tuple[str, dict[str, bytes]]:
    """(current key id, all keys by id)."""
    return _parse_master_keys(settings.PROPORTRAIT_MASTER_KEYS)


def generate_master_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def _wrap(raw_key: bytes, data_key_id: str, master_key_id: str) -> bytes:
    _, keys = master_keys()
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(keys[master_key_id]).encrypt(nonce, raw_key, data_key_id.encode())


def new_data_key(purpose: DataKeyPurpose) -> tuple[DataKey, bytes]:
    """A fresh random AES-256 key, wrapped but not yet saved: the caller saves it in its own
    transaction, so a key exists durably only together with the row that points at it."""
    current, _ = master_keys()
    raw_key = AESGCM.generate_key(bit_length=256)
    data_key = DataKey(purpose=purpose, master_key_id=current)
    data_key.wrapped_key = _wrap(raw_key, str(data_key.id), current)
    return data_key, raw_key


def create_data_key(purpose: DataKeyPurpose) -> tuple[DataKey, bytes]:
    """A fresh random AES-256 key, saved wrapped. The raw key is returned for immediate use only."""
    data_key, raw_key = new_data_key(purpose)
    data_key.save()
    return data_key, raw_key


def unwrap_data_key(data_key: DataKey) -> bytes:
    if data_key.destroyed_at is not None or not data_key.wrapped_key:
        raise KeyDestroyed(f"data key {data_key.id} was destroyed")
    _, keys = master_keys()
    if data_key.master_key_id not in keys:
        raise ImproperlyConfigured(f"Master key {data_key.master_key_id!r} is needed but not configured.")
    wrapped = bytes(data_key.wrapped_key)
    return AESGCM(keys[data_key.master_key_id]).decrypt(
        wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], str(data_key.id).encode()
    )


def destroy_data_key(data_key: DataKey) -> bool:
    """Wipe the wrapped key. Returns False if it was already destroyed (idempotent)."""
    changed = DataKey.objects.filter(pk=data_key.pk, destroyed_at__isnull=True).update(
        wrapped_key=None, destroyed_at=timezone.now()
    )
    data_key.refresh_from_db(fields=["wrapped_key", "destroyed_at"])
    return changed == 1


def encrypt(raw_key: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return MAGIC + nonce + AESGCM(raw_key).encrypt(nonce, plaintext, associated_data)


def decrypt(raw_key: bytes, blob: bytes, associated_data: bytes) -> bytes:
    if not blob.startswith(MAGIC):
        raise ValueError("not a ProPortrait ciphertext")
    body = blob[len(MAGIC) :]
    return AESGCM(raw_key).decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], associated_data)


def rewrap_data_keys() -> int:
    """Re-wrap every live data key under the current master key (rotation). Returns how many moved."""
    current, _ = master_keys()
    moved = 0
    stale = DataKey.objects.filter(destroyed_at__isnull=True).exclude(master_key_id=current)
    for data_key in stale.iterator():
        with transaction.atomic():
            locked = DataKey.objects.select_for_update().get(pk=data_key.pk)
            if locked.destroyed_at is not None:
                continue
            raw_key = unwrap_data_key(locked)
            locked.wrapped_key = _wrap(raw_key, str(locked.id), current)
            locked.master_key_id = current
            locked.save(update_fields=["wrapped_key", "master_key_id"])
            moved += 1
    return moved
