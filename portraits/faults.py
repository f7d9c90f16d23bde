"""Which failures are transient: a dependency (storage, database, broker) that is briefly away.

A job interrupted by one of these is retried with backoff inside the dead-man window; an upload
refused for one of these is answered 503 `service_unavailable` with a Retry-After
(`proportrait.outage`).
"""

from __future__ import annotations

from django.db import InterfaceError, OperationalError

from portraits.storage import StorageUnavailable
from proportrait.outage import DiskSpaceLow, ServiceUnavailable

__all__ = ["DiskSpaceLow", "ServiceUnavailable", "StorageUnavailable", "is_transient"]


def is_transient(error: BaseException) -> bool:
    """True for faults of a dependency that a later attempt can overcome."""
    transient = (StorageUnavailable, OperationalError, InterfaceError, ConnectionError, TimeoutError)
    if isinstance(error, transient):
        return True
    try:
        from kombu.exceptions import OperationalError as BrokerError
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
    except ImportError:  # pragma: no cover - both ship with the pinned Celery and Django cache
        return False
    # Redis: the broker, and the cache that holds rate-limit counters.
    return isinstance(error, BrokerError | RedisConnectionError | RedisTimeoutError)
