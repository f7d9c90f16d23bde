"""A request whose code is never entered gets a "could not verify" notice, and a minimised record
is kept for 24 months (CCPA 11 CCR 7060-7062, 7101) instead of vanishing silently."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from compliance.models import AuditEvent, DataSubjectRequest, DsarStatus
from compliance.services import housekeeping
from compliance.tests.conftest import message_parts

pytestmark = pytest.mark.django_db


def _unverified() -> DataSubjectRequest:
    return DataSubjectRequest.objects.create(
        request_type="erasure",
        email="someone@example.com",
        email_sha256="abc",
        details="please delete",
        received_at=timezone.now(),
        due_at=timezone.now() + timedelta(days=30),
    )


def test_the_requester_is_told_and_the_record_is_minimised(committed: Any, settings: Any) -> None:
    settings.COMPLIANCE_DSAR_UNVERIFIED_RETENTION_DAYS = 30
    with time_machine.travel("2026-01-01 09:00Z", tick=False):
        request = _unverified()
    with time_machine.travel("2026-01-20 09:00Z", tick=False), committed():
        assert housekeeping.close_unverifiable_requests(timezone.now()) == 0  # still inside the window
    with time_machine.travel("2026-02-05 09:00Z", tick=False), committed():
        assert housekeeping.close_unverifiable_requests(timezone.now()) == 1

    [message] = [m for m in mail.outbox if m.to == ["someone@example.com"]]
    text, html = message_parts(message)
    for body in (text, html):
        assert "could not verify" in body and request.reference in body
        assert "/legal/appeals/" in body
    request.refresh_from_db()
    assert request.status == DsarStatus.DENIED
    assert (request.email, request.details) == ("", "")  # minimised
    assert request.request_type == "erasure" and request.received_at and request.closed_at
    assert AuditEvent.objects.filter(action="dsar.denied", object_id=str(request.id)).exists()


def test_the_minimised_record_is_kept_for_24_months_then_deleted(committed: Any, settings: Any) -> None:
    settings.COMPLIANCE_DSAR_UNVERIFIED_RETENTION_DAYS = 30
    with time_machine.travel("2026-01-01 09:00Z", tick=False):
        request = _unverified()
    with time_machine.travel("2026-02-05 09:00Z", tick=False), committed():
        housekeeping.run_daily_housekeeping()
    with time_machine.travel("2027-12-01 09:00Z", tick=False), committed():
        housekeeping.run_daily_housekeeping()
        assert DataSubjectRequest.objects.filter(pk=request.pk).exists()
    with time_machine.travel("2028-02-10 09:00Z", tick=False), committed():
        housekeeping.run_daily_housekeeping()
        assert not DataSubjectRequest.objects.filter(pk=request.pk).exists()
