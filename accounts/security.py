"""Log-in rate limits and lock-out, kept in the shared cache (Redis in production).

Two counters: failures per account (lock-out after ACCOUNTS_LOGIN_MAX_FAILURES within the
window, for ACCOUNTS_LOCKOUT_MINUTES) and attempts per client address (slows down guessing
across many accounts). Keys are hashed with the secret key so the cache never holds an email
address or an IP address.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from proportrait import ratelimit
from proportrait.addresses import normalise_email
from proportrait.http import ip_bucket


def _digest(kind: str, value: str) -> str:
    raw = f"{settings.SECRET_KEY}:{kind}:{value.strip().lower()}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _failures_key(email: str) -> str:
    # The normalised form: every spelling that reaches the same account shares one counter.
    return f"accounts:login-failures:{_digest('email', normalise_email(email) or email)}"


def _lock_key(email: str) -> str:
    return f"accounts:login-lock:{_digest('email', normalise_email(email) or email)}"


def _ip_key(ip: str | None) -> str:
    return f"accounts:login-ip:{_digest('ip', ip_bucket(ip))}"


@dataclass(frozen=True)
class LoginGate:
    allowed: bool
    reason: str = ""  # "locked" or "rate_limited"


def check_login_allowed(email: str, ip: str | None) -> LoginGate:
    """Say whether a log-in attempt may be checked at all (before the password is looked at)."""
    if is_locked(email):
        return LoginGate(False, "locked")
    window = settings.ACCOUNTS_LOGIN_WINDOW_MINUTES * 60
    if ratelimit.hit(_ip_key(ip), window) > settings.ACCOUNTS_LOGIN_ATTEMPTS_PER_IP:
        return LoginGate(False, "rate_limited")
    return LoginGate(True)


def register_login_failure(email: str) -> int:
    """Count a failed password or second-factor code; lock the account once over the limit."""
    window = settings.ACCOUNTS_LOGIN_WINDOW_MINUTES * 60
    failures = ratelimit.hit(_failures_key(email), window)
    if failures >= settings.ACCOUNTS_LOGIN_MAX_FAILURES:
        # The lock holds its own end time: a cache server's TTL (Redis) runs on its own clock.
        lockout_seconds = settings.ACCOUNTS_LOCKOUT_MINUTES * 60
        cache.set(_lock_key(email), time.time() + lockout_seconds, timeout=lockout_seconds)
        ratelimit.clear(_failures_key(email), window)
    return failures


def clear_login_failures(email: str) -> None:
    """Forget the account's failures and end its lock-out (a log-in passed, or a reset proved the mailbox)."""
    ratelimit.clear(_failures_key(email), settings.ACCOUNTS_LOGIN_WINDOW_MINUTES * 60)
    cache.delete(_lock_key(email))


def is_locked(email: str) -> bool:
    locked_until = cache.get(_lock_key(email))
    return locked_until is not None and float(locked_until) > time.time()
