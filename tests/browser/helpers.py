"""Shared steps of the browser tests: a finished job a browser can open, logged-in sessions."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone


def finished_job(style: str = "corporate-grey") -> Any:
    """A done job made in this process (eager generation), as the upload page would make it."""
    from django.test import TestCase

    from compliance.models import ConsentKind
    from compliance.services import ConsentAct, current_document
    from portraits import services
    from proportrait.celery import app as celery_app
    from tests import photos

    act = ConsentAct(
        checked=True,
        signature_name="Jane Q. Example",
        document_version=current_document(ConsentKind.BIOMETRIC).version,
        ip="127.0.0.1",
        user_agent="browser test",
    )
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        with TestCase.captureOnCommitCallbacks(execute=True):
            created = services.create_job(
                photo=photos.face_jpeg(),
                consent=act,
                client=services.ClientInfo(ip="127.0.0.1", user_agent="browser test"),
                style_slug=style,
            )
    finally:
        celery_app.conf.task_always_eager = previous
    created.job.refresh_from_db()
    assert created.job.status == "done", created.job.error_message
    return created.job


def open_job_path(job: Any, address: str = "holder@example.com") -> str:
    """The path of the e-mailed results link: opening it lets the browser see the job.

    The link works only while we hold the address it went to, so the address is stored first.
    """
    from portraits import notify
    from portraits.models import ResultsEmail

    ResultsEmail.objects.update_or_create(
        job=job, defaults={"address": address, "sends": 1, "last_sent_at": timezone.now()}
    )
    return urlsplit(notify.results_link(job, address)).path


def session_cookie_for(user: Any, base_url: str, *, second_factor: bool = False) -> dict[str, Any]:
    """A logged-in session (with the second factor passed, for admins) as a browser cookie."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if second_factor:
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return {"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": base_url}
