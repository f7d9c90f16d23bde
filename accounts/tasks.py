"""Celery tasks of the accounts app: thin, they call a service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="accounts.enforce_retention")
def enforce_retention() -> int:
    """Scheduled: keep every member job's expiry in line with its organisation's policy."""
    from accounts.teams import enforce_retention as enforce

    return enforce()
