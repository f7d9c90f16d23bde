"""The one module that sends email. Templates live in templates/emails/<name>-subject.txt,
<name>-body-text.txt and <name>-body-html.html; every message has a text and an HTML part."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string


def render_email(name: str, context: dict[str, Any]) -> tuple[str, str, str]:
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
    text = render_to_string(f"emails/{name}-body-text.txt", context)
    html = render_to_string(f"emails/{name}-body-html.html", context)
    return subject, text, html


def send_email(name: str, to: Sequence[str], context: dict[str, Any], *, on_commit: bool = True) -> None:
    """Render and send one templated email; by default after the surrounding transaction commits."""

    def _send() -> None:
        subject, text, html = render_email(name, context)
        message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, list(to))
        message.attach_alternative(html, "text/html")
        message.send()

    if on_commit:
        transaction.on_commit(_send)
    else:
        _send()


def delete_old_mail_files(now: float | None = None) -> int:
    """Embedded default only: delete mail written as files once PROPORTRAIT_MAIL_FILE_RETENTION_DAYS
    have passed (they hold verification codes, links and addresses). Returns how many went."""
    import time
    from pathlib import Path

    if settings.EMAIL_BACKEND != "django.core.mail.backends.filebased.EmailBackend":
        return 0
    folder = Path(settings.EMAIL_FILE_PATH)
    if not folder.is_dir():
        return 0
    cutoff = (now or time.time()) - settings.PROPORTRAIT_MAIL_FILE_RETENTION_DAYS * 86400
    deleted = 0
    for path in folder.glob("*.log"):
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            deleted += 1
    return deleted
