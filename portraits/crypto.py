"""Envelope encryption: AES-256-GCM per object, data keys wrapped by a master key.

Only ciphertext reaches storage. Wiping a data key (crypto-shredding) makes every copy of its
objects unreadable, including copies in storage backups.

An original photo's data key is never written to the database: its row records only that the
key exists (id, master key id, times) while the wrapped key itself is held in the volatile key
store (`portraits.keystore`) for at most the dead-man limit. No backup can therefore hold a key
that opens an original.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import time

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from portraits import keystore
from portraits.models import DataKey, DataKeyPurpose
from proportrait.keyring import parse_keys

logger = logging.getLogger(__name__)

MAGIC = b"PPE1"
NONCE_BYTES = 12
# Keys of these purposes live only in the volatile key store, never in the database.
VOLATILE_PURPOSES = frozenset({DataKeyPurpose.ORIGINAL})


class KeyDestroyed(Exception):
    """The data key was wiped: the object can never be read again."""


class KeyLost(KeyDestroyed):
    """A volatile key is no longer in the key store (time-to-live passed, or the store restarted)."""


def master_keys() -> tuple[str, dict[str, bytes]]:
    """(current key id, all keys by id)."""
    return parse_keys(settings.PROPORTRAIT_MASTER_KEYS, "PROPORTRAIT_MASTER_KEYS")


def generate_master_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def _wrap(raw_key: bytes, data_key_id: str, master_key_id: str) -> bytes:
    _, keys = master_keys()
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(keys[master_key_id]).encrypt(nonce, raw_key, data_key_id.encode())


def new_data_key(purpose: DataKeyPurpose) -> tuple[DataKey, bytes]:
    """A fresh random AES-256 key, wrapped but not yet saved: the caller saves it in its own
    transaction, so a key exists durably only together with the row that points at it.

    A key of a volatile purpose (the original photo's) is put, wrapped, into the volatile key
    store with a time-to-live of the dead-man limit; its database row holds no key material.
    Raises keystore.KeyStoreUnavailable when that store cannot be reached.
    """
    current, _ = master_keys()
    raw_key = AESGCM.generate_key(bit_length=256)
    data_key = DataKey(purpose=purpose, master_key_id=current)
    wrapped = _wrap(raw_key, str(data_key.id), current)
    if purpose in VOLATILE_PURPOSES:
        _put_volatile(data_key, wrapped, volatile_key_seconds())
    else:
        data_key.wrapped_key = wrapped
    return data_key, raw_key


def create_data_key(purpose: DataKeyPurpose) -> tuple[DataKey, bytes]:
    """A fresh random AES-256 key, saved. The raw key is returned for immediate use only."""
    data_key, raw_key = new_data_key(purpose)
    data_key.save()
    return data_key, raw_key


def volatile_key_seconds() -> int:
    return int(settings.PROPORTRAIT_ORIGINAL_DEADMAN_MINUTES) * 60


def is_volatile(data_key: DataKey) -> bool:
    # Rows of an earlier version kept an original's wrapped key in the database; those are read
    # as before until the sweeper destroys them (within the dead-man limit of the upgrade).
    return data_key.purpose in VOLATILE_PURPOSES and not data_key.wrapped_key


def _put_volatile(data_key: DataKey, wrapped: bytes, ttl_seconds: int) -> None:
    entry = {
        "master_key_id": data_key.master_key_id,
        "wrapped": base64.b64encode(wrapped).decode(),
        "expires_at": time.time() + ttl_seconds,
    }
    keystore.get_keystore().put(str(data_key.id), json.dumps(entry).encode(), ttl_seconds)


def _get_volatile(data_key: DataKey) -> tuple[str, bytes, float]:
    value = keystore.get_keystore().get(str(data_key.id))
    if value is None:
        raise KeyLost(f"data key {data_key.id} is no longer in the volatile key store")
    entry = json.loads(value)
    return str(entry["master_key_id"]), base64.b64decode(entry["wrapped"]), float(entry["expires_at"])


def unwrap_data_key(data_key: DataKey) -> bytes:
    if data_key.destroyed_at is not None:
        raise KeyDestroyed(f"data key {data_key.id} was destroyed")
    if is_volatile(data_key):
        master_key_id, wrapped, _ = _get_volatile(data_key)
    elif data_key.wrapped_key:
        master_key_id, wrapped = data_key.master_key_id, bytes(data_key.wrapped_key)
    else:
        raise KeyDestroyed(f"data key {data_key.id} was destroyed")
    _, keys = master_keys()
    if master_key_id not in keys:
        raise ImproperlyConfigured(f"Master key {master_key_id!r} is needed but not configured.")
    return AESGCM(keys[master_key_id]).decrypt(
        wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], str(data_key.id).encode()
    )


def forget_unsaved_key(data_key: DataKey) -> None:
    """Drop a volatile key whose row was never saved (the upload was refused). Best effort: if the
    store cannot be reached the key ends at its time-to-live, at most the dead-man limit."""
    if data_key.purpose not in VOLATILE_PURPOSES:
        return
    try:
        keystore.get_keystore().delete(str(data_key.id))
    except keystore.KeyStoreUnavailable:
        logger.warning("key store unreachable; unsaved data key %s ends at its time-to-live", data_key.id)


def destroy_data_key(data_key: DataKey) -> bool:
    """Wipe the wrapped key. Returns False if it was already destroyed (idempotent).

    A volatile key is deleted from the key store too; if the store cannot be reached the key
    still ends at its time-to-live, and the row is marked destroyed all the same.
    """
    if data_key.purpose in VOLATILE_PURPOSES:
        try:
            keystore.get_keystore().delete(str(data_key.id))
        except keystore.KeyStoreUnavailable:
            logger.warning("key store unreachable; data key %s ends at its time-to-live", data_key.id)
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
            try:
                raw_key = unwrap_data_key(locked)
            except KeyLost:
                continue  # its original can no longer be read; the sweeper ends the job
            wrapped = _wrap(raw_key, str(locked.id), current)
            locked.master_key_id = current
            if is_volatile(locked):
                _, _, expires_at = _get_volatile(locked)
                _put_volatile(locked, wrapped, max(1, int(expires_at - time.time())))
                locked.save(update_fields=["master_key_id"])
            else:
                locked.wrapped_key = wrapped
                locked.save(update_fields=["wrapped_key", "master_key_id"])
            moved += 1
    return moved
