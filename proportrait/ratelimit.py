"""Fixed-window counters in the shared cache: the one mechanism behind every rate limit.

The window is named by the application's clock (`time.time() // window`), not by the cache
server's key expiry, so limits behave the same on the file cache and on Redis, and a test's
travelled clock moves them too. Expiry only cleans up.
"""

from __future__ import annotations

import time

from django.core.cache import cache


def _window_key(name: str, window_seconds: int) -> str:
    return f"{name}:w{window_seconds}:{int(time.time() // window_seconds)}"


def hit(name: str, window_seconds: int) -> int:
    """Count one event for `name` in the current window; return the window's count so far."""
    key = _window_key(name, window_seconds)
    cache.add(key, 0, timeout=window_seconds + 60)
    try:
        return int(cache.incr(key))
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=window_seconds + 60)
        return 1


def count(name: str, window_seconds: int) -> int:
    """The current window's count for `name`, without adding to it."""
    return int(cache.get(_window_key(name, window_seconds)) or 0)


def clear(name: str, window_seconds: int) -> None:
    cache.delete(_window_key(name, window_seconds))
