"""Erasing a person clears the contact of their closed requests only: an access request still
being worked on keeps its email, completes, and delivers its answer."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail

from compliance import services
from compliance.models import DataSubjectRequest, DsarStatus
from compliance.services.dsar import redact_request

pytestmark = pytest.mark.django_db

EMAIL = "jane@example.com"


def last_code() -> str:
    match = re.search(r"\b(\d{6})\b", str(mail.outbox[-1].body))
    assert match is not None
    return match.group(1)


def test_an_erasure_does_not_strand_an_open_access_request(
    django_capture_on_commit_callbacks: Any, eager_celery: None
) -> None:
    # An access request is verified; its fulfilment task has not run yet.
    with django_capture_on_commit_callbacks(execute=True):
        access = services.create_request(email=EMAIL, request_type="access")
    with django_capture_on_commit_callbacks(execute=False):
        services.verify_request(access.pk, last_code())
    # Meanwhile an erasure request runs to the end.
    with django_capture_on_commit_callbacks(execute=True):
        erasure = services.create_request(email=EMAIL, request_type="erasure")
    with django_capture_on_commit_callbacks(execute=True):
        services.verify_request(erasure.pk, last_code())
    erasure.refresh_from_db()
    assert erasure.status == DsarStatus.COMPLETED and erasure.email == ""

    access.refresh_from_db()
    assert access.status == DsarStatus.VERIFIED and access.email == EMAIL

    with django_capture_on_commit_callbacks(execute=True):
        services.fulfil_request(access.pk)

    access.refresh_from_db()
    assert access.status == DsarStatus.COMPLETED and access.email == ""  # forgotten once answered
    delivered = mail.outbox[-1]
    assert delivered.to == [EMAIL] and access.reference in delivered.subject
    assert "/privacy/exports/" in delivered.body


def test_redacting_leaves_open_requests_alone(committed: Any) -> None:
    with committed():
        closed = services.create_request(email=EMAIL, request_type="rectification")
        still_open = services.create_request(email=EMAIL, request_type="objection", details="Stop it")
    DataSubjectRequest.objects.filter(pk=closed.pk).update(status=DsarStatus.DENIED)

    redact_request(closed)

    assert DataSubjectRequest.objects.get(pk=closed.pk).email == ""
    still_open.refresh_from_db()
    assert (still_open.email, still_open.details) == (EMAIL, "Stop it")
