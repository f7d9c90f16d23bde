"""Celery tasks of the accounts app: thin, they call a service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="accounts.enforce_retention")
def enforce_retention() -> int:
    """Scheduled: keep every member job's expiry in line with its organisation's policy."""
    from accounts.teams import enforce_retention as enforce

    return enforce()


@shared_task(name="accounts.send_account_email", ignore_result=True)
def send_account_email(name: str, to: list[str], context: dict[str, object]) -> None:
    """Send a sign-up mail from the worker: a visitor's request never waits on (or is timed by) SMTP."""
    from proportrait.emails import send_email

    send_email(name, to, dict(context), on_commit=False)


@shared_task(name="accounts.send_password_reset", ignore_result=True)
def send_password_reset(email: str) -> None:
    """Find the account and send its reset link, in the worker: the web answer takes the same time
    and does the same work whether or not the address has an account."""
    from accounts.services import send_password_reset_mail

    send_password_reset_mail(email)
