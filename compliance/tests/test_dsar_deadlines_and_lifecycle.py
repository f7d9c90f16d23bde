"""Deadlines (GDPR Art. 12(3): one calendar month, +2; CCPA: 45 days, +45), extension, denial,
duplicates, manual requests and the staff queue."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from compliance import services
from compliance.models import DataSubjectRequest, DsarStatus
from compliance.tests.conftest import message_parts

pytestmark = pytest.mark.django_db


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("received", "jurisdiction", "due"),
    [
        ("2026-01-31 10:00", "eu_uk", "2026-02-28 10:00"),  # calendar month, not 30 days
        ("2028-01-31 10:00", "eu_uk", "2028-02-29 10:00"),  # leap year
        ("2026-03-15 10:00", "eu_uk", "2026-04-15 10:00"),
        ("2026-12-20 10:00", "eu_uk", "2027-01-20 10:00"),
        ("2026-01-31 10:00", "california", "2026-03-17 10:00"),  # 45 days
        ("2026-01-31 10:00", "other_us", "2026-03-17 10:00"),
        ("2026-01-31 10:00", "unknown", "2026-02-28 10:00"),  # the earlier wins
    ],
)
def test_the_deadline_follows_the_law_that_applies(received: str, jurisdiction: str, due: str) -> None:
    assert services.due_date(at(received), jurisdiction) == at(due)


def _request(
    request_type: str = "rectification", jurisdiction: str = "eu_uk", email: str = "jane@example.com"
) -> DataSubjectRequest:
    return services.create_request(email=email, request_type=request_type, jurisdiction=jurisdiction)


def _verified(committed: Any, **kwargs: Any) -> DataSubjectRequest:
    with committed():
        request = _request(**kwargs)
    import re

    match = re.search(r"\b(\d{6})\b", str(mail.outbox[-1].body))
    assert match is not None
    code = match.group(1)
    with committed():
        return services.verify_request(request.pk, code)


def test_an_extension_needs_a_reason_and_notifies_the_requester(committed: Any) -> None:
    with time_machine.travel("2026-01-31 10:00Z", tick=False):
        request = _verified(committed)
        with pytest.raises(services.DsarError) as no_reason:
            services.extend_request(request, reason="  ", actor="staff:1")
        assert no_reason.value.code == "reason_required"

        with committed():
            services.extend_request(request, reason="We must restore an archive.", actor="staff:1")

    request.refresh_from_db()
    assert request.due_at == at("2026-04-28 10:00")  # Feb 28 + two calendar months
    assert request.extended_at and request.extension_reason == "We must restore an archive."
    text, html = message_parts(mail.outbox[-1])
    assert "more time" in mail.outbox[-1].subject
    for body in (text, html):
        assert "We must restore an archive." in body and "28 April 2026" in body


def test_a_ccpa_extension_adds_45_days(committed: Any) -> None:
    with time_machine.travel("2026-01-01 10:00Z", tick=False):
        request = _verified(committed, jurisdiction="california")
        services.extend_request(request, reason="Complex", actor="staff:1")
    assert request.due_at == at("2026-04-01 10:00")  # Feb 15 + 45 days


def test_it_refuses_a_second_extension(committed: Any) -> None:
    request = _verified(committed)
    services.extend_request(request, reason="One", actor="staff:1")
    with pytest.raises(services.DsarError) as error:
        services.extend_request(request, reason="Two", actor="staff:1")
    assert error.value.code == "already_extended"


def test_it_refuses_an_extension_after_the_deadline(committed: Any) -> None:
    with time_machine.travel("2026-01-01 10:00Z", tick=False):
        request = _verified(committed)
    with time_machine.travel("2026-03-01 10:00Z", tick=False), pytest.raises(services.DsarError) as error:
        services.extend_request(request, reason="Late", actor="staff:1")
    assert error.value.code == "overdue"


def test_it_refuses_to_extend_a_closed_request(committed: Any) -> None:
    request = _verified(committed)
    services.deny_request(request, reason="Unfounded", actor="staff:1")
    with pytest.raises(services.DsarError) as error:
        services.extend_request(request, reason="x", actor="staff:1")
    assert error.value.code == "invalid_transition"


def test_a_denial_needs_a_reason_and_tells_the_requester(committed: Any) -> None:
    request = _verified(committed)
    with pytest.raises(services.DsarError):
        services.deny_request(request, reason="", actor="staff:1")
    with committed():
        services.deny_request(request, reason="We hold no such data.", actor="staff:1")
    request.refresh_from_db()
    assert request.status == DsarStatus.DENIED and request.closed_at
    text, html = message_parts(mail.outbox[-1])
    assert "We hold no such data." in text and "We hold no such data." in html
    assert "complain" in text


def test_manual_requests_go_through_in_progress_to_completed_with_an_email_each(committed: Any) -> None:
    request = _verified(committed, request_type="rectification")
    assert request.status == DsarStatus.VERIFIED  # nothing automatic for a correction
    subjects_before = len(mail.outbox)
    with committed():
        services.start_request(request, actor="staff:1")
    with pytest.raises(services.DsarError):
        services.complete_request(request, note="", actor="staff:1")
    with committed():
        services.complete_request(request, note="Your name is corrected.", actor="staff:1")
    request.refresh_from_db()
    assert request.status == DsarStatus.COMPLETED
    assert (request.email, request.details) == ("", "")  # closed: the record stays, the contact goes
    assert request.email_sha256 and request.received_at and request.closed_at
    sent = mail.outbox[subjects_before:]
    assert ["working on" in sent[0].subject, "completed" in sent[1].subject] == [True, True]
    assert "Your name is corrected." in message_parts(sent[1])[1]


def test_it_refuses_a_transition_the_lifecycle_does_not_allow(committed: Any) -> None:
    with committed():
        request = _request()
    with pytest.raises(services.DsarError) as error:
        services.start_request(request, actor="staff:1")  # not verified yet
    assert error.value.code == "invalid_transition"


def test_a_duplicate_inside_the_window_is_linked_and_not_processed_twice(committed: Any) -> None:
    first = _verified(committed, request_type="rectification")
    second = _verified(committed, request_type="rectification", email="JANE@example.com ")

    assert second.duplicate_of_id == first.pk
    second.refresh_from_db()
    assert second.status == DsarStatus.COMPLETED
    assert first.reference in second.resolution_note
    receipt = next(m for m in mail.outbox if "received" in m.subject and second.reference in m.subject)
    assert first.reference in receipt.body and "already made the same request" in receipt.body


def test_an_unverified_request_is_not_a_duplicate_target(committed: Any) -> None:
    with committed():
        stray = _request()
        fresh = _request()
    assert stray.duplicate_of_id is None and fresh.duplicate_of_id is None


def test_a_request_outside_the_window_is_new(committed: Any) -> None:
    with time_machine.travel("2026-01-01 10:00Z", tick=False):
        _verified(committed)
    with time_machine.travel("2026-03-01 10:00Z", tick=False), committed():
        later = _request()
    assert later.duplicate_of_id is None


def test_the_staff_queue_shows_days_left_and_highlights_overdue(committed: Any, staff_client: Any) -> None:
    with time_machine.travel("2026-01-01 10:00Z", tick=False):
        overdue = _verified(committed, email="late@example.com")
    with time_machine.travel("2026-02-05 10:00Z", tick=False):
        fresh = _verified(committed, email="fresh@example.com")
        listing = staff_client.get(reverse("admin:compliance_datasubjectrequest_changelist")).content.decode()
        only_overdue = staff_client.get(
            reverse("admin:compliance_datasubjectrequest_changelist"), {"deadline": "overdue"}
        ).content.decode()
    assert '<span class="dsar-overdue">Overdue by 4 day(s)</span>' in listing  # due 1 Feb
    assert "28 days" in listing  # due 5 March
    assert overdue.reference in only_overdue and fresh.reference not in only_overdue
    assert "compliance/admin.css" in listing


def test_staff_extend_from_the_queue_with_a_reason(committed: Any, staff_client: Any) -> None:
    request = _verified(committed)
    url = reverse("admin:compliance_datasubjectrequest_changelist")

    without = staff_client.post(
        url, {"action": "extend", "_selected_action": [request.pk], "reason": ""}, follow=True
    )
    assert "needs a reason" in without.content.decode()
    staff_client.post(url, {"action": "extend", "_selected_action": [request.pk], "reason": "Backlog"})
    request.refresh_from_db()
    assert request.extension_reason == "Backlog"
