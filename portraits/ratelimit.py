"""Upload rate limits per client, in the shared cache (Redis in production)."""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import cache

from proportrait.http import ip_bucket


def client_key(ip: str | None) -> str:
    # Hashed with the secret key: the cache never holds a raw address.
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{ip_bucket(ip)}".encode()).hexdigest()[:32]
    return f"ratelimit:upload:{digest}"


def allow_upload(ip: str | None) -> bool:
    """Count one upload attempt in the current hour window; False once over the limit."""
    limit = settings.PROPORTRAIT_UPLOADS_PER_HOUR
    window = int(time.time() // 3600)
    key = f"{client_key(ip)}:{window}"
    cache.add(key, 0, timeout=3600 + 60)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=3600 + 60)
        count = 1
    return count <= limit
