"""Upload rate limits per client, in the shared cache (Redis in production)."""

from __future__ import annotations

import hashlib

from django.conf import settings

from proportrait import ratelimit
from proportrait.http import ip_bucket

HOUR_SECONDS = 3600


def client_key(ip: str | None) -> str:
    # Hashed with the secret key: the cache never holds a raw address.
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{ip_bucket(ip)}".encode()).hexdigest()[:32]
    return f"ratelimit:upload:{digest}"


def allow_upload(ip: str | None) -> bool:
    """Count one upload attempt in the current hour; False once over the limit."""
    return ratelimit.hit(client_key(ip), HOUR_SECONDS) <= settings.PROPORTRAIT_UPLOADS_PER_HOUR
