"""Key lists from the environment: "id:base64(32 bytes)[,older-id:key…]", the first one current.

One parser for every key list (the master keys, the audit log's HMAC and signing keys), so each
refuses a malformed list with the same plain message naming its variable.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=8)
def parse_keys(raw: str, name: str) -> tuple[str, dict[str, bytes]]:
    """Parse "id:base64(32 bytes)[,id2:...]" into (current id, {id: key})."""
    keys: dict[str, bytes] = {}
    current = ""
    for item in raw.split(","):
        item = item.strip()
        if not item:
            continue
        key_id, sep, encoded = item.partition(":")
        if not sep or not key_id:
            raise ImproperlyConfigured(f"{name} entries must look like 'id:base64key'.")
        try:
            key = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise ImproperlyConfigured(f"{name}: key {key_id!r} is not valid base64.") from None
        if len(key) != 32:
            raise ImproperlyConfigured(f"{name}: key {key_id!r} must be 32 bytes, got {len(key)}.")
        keys[key_id] = key
        current = current or key_id
    if not keys:
        raise ImproperlyConfigured(f"{name} holds no key.")
    return current, keys
