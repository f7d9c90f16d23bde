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


# --- Mail that a visitor can make us send (sign-up, password reset, invitations, reminders)

HOUR_SECONDS = 3600
DAY_SECONDS = 24 * HOUR_SECONDS


class MailLimited(Exception):
    """Too many mails of one kind; `message` says what to do. Raised before anything is sent."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _record_refusal(kind: str, limit: str) -> None:
    from compliance.audit import record_event

    record_event(
        "account.mail_limited", actor="anonymous", object_type="user", data={"kind": kind, "limit": limit}
    )


def check_visitor_mail(kind: str, email: str, ip: str | None) -> None:
    """Sign-up and reset: count one request and raise MailLimited past a limit.

    Counted per address *and network* (ACCOUNTS_MAILS_PER_ADDRESS_PER_NETWORK_PER_HOUR) and per
    network (ACCOUNTS_MAIL_REQUESTS_PER_NETWORK_PER_HOUR), never per address alone: someone
    else's requests from their network cannot use up the address holder's own. The count is the
    same whether or not the address has an account, so a refusal reveals nothing either.
    """
    try:
        bucket = ip_bucket(ip)
    except ValueError:
        bucket = "unknown"
    address = normalise_email(email) or email.strip().casefold()
    per_address = ratelimit.hit(
        f"accounts:{kind}:address:{_digest('email', address)}:{_digest('ip', bucket)}", HOUR_SECONDS
    )
    per_network = ratelimit.hit(f"accounts:{kind}:network:{_digest('ip', bucket)}", HOUR_SECONDS)
    if per_address > settings.ACCOUNTS_MAILS_PER_ADDRESS_PER_NETWORK_PER_HOUR:
        _record_refusal(kind, "address_from_network")
        raise MailLimited(
            "We have just sent several messages to this address. "
            "Please check your inbox, or try again in an hour."
        )
    if per_network > settings.ACCOUNTS_MAIL_REQUESTS_PER_NETWORK_PER_HOUR:
        _record_refusal(kind, "network")
        raise MailLimited("Too many requests from your network. Please try again in an hour.")


def check_team_mail(kind: str, person: str, organisation_id: int) -> None:
    """Invitation sends, re-sends and reminders: at most ACCOUNTS_TEAM_MAILS_PER_PERSON_PER_DAY to
    one person (`person`: their normalised address) from one organisation, and
    ACCOUNTS_TEAM_MAILS_PER_ORGANISATION_PER_HOUR per organisation. `kind` names the mail."""
    person_key = _digest("team-person", f"{organisation_id}:{person}")
    per_person = ratelimit.count(f"accounts:team-mail:{person_key}", DAY_SECONDS)
    per_organisation = ratelimit.count(f"accounts:team-mail:org:{organisation_id}", HOUR_SECONDS)
    if per_person >= settings.ACCOUNTS_TEAM_MAILS_PER_PERSON_PER_DAY:
        raise MailLimited(
            "This person has had as many messages from us as we send in a day. Try again tomorrow."
        )
    if per_organisation >= settings.ACCOUNTS_TEAM_MAILS_PER_ORGANISATION_PER_HOUR:
        raise MailLimited(
            "Your organisation has sent as many messages as we allow in an hour. Try again later."
        )
    ratelimit.hit(f"accounts:team-mail:{person_key}", DAY_SECONDS)
    ratelimit.hit(f"accounts:team-mail:org:{organisation_id}", HOUR_SECONDS)
