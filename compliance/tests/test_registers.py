"""Sub-processor register (Art. 28(2),(4)), breach register (Arts. 33-34) and daily housekeeping."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from compliance import services
from compliance.models import (
    AuditEvent,
    BreachIncident,
    DataExport,
    DataSubjectRequest,
    DsarStatus,
    SubprocessorObjection,
)
from compliance.services import housekeeping
from compliance.tests.conftest import message_parts

pytestmark = pytest.mark.django_db


def test_publishing_needs_a_change_summary(team: Any) -> None:
    with pytest.raises(ValueError):
        services.publish_subprocessor_register(change_summary=" ", actor="staff:1")


def test_an_organisation_objection_is_recorded(team: Any) -> None:
    objection = services.record_objection(
        organisation=team.organisation, user=team.owner, reason="Not in the US"
    )
    assert objection.register_version is not None and objection.register_version.version == 1
    with pytest.raises(ValueError):
        services.record_objection(organisation=team.organisation, user=team.owner, reason="")
    assert SubprocessorObjection.objects.count() == 1


def test_a_breach_has_a_72_hour_clock_and_each_affected_organisation_is_told(
    team: Any, committed: Any
) -> None:
    detected = timezone.now() - timedelta(hours=2)
    incident = services.report_breach(
        title="Misdirected email",
        description="One export link sent to a wrong address.",
        detected_at=detected,
        actor="staff:1",
        affected={team.organisation: 3},
        affected_subjects_count=3,
    )
    assert incident.notification_deadline == detected + timedelta(hours=72)

    with committed():
        assert services.notify_breach_organisations(incident, actor="staff:1") == 1
    assert services.notify_breach_organisations(incident, actor="staff:1") == 0  # told once
    text, html = message_parts(mail.outbox[-1])
    assert "Acme Widgets" in mail.outbox[-1].subject
    for body in (text, html):
        assert "Misdirected email" in body and "72 hours" in body and "3" in body
    assert incident.affected.get().notified_at is not None
    assert AuditEvent.objects.filter(action="breach.organisations_notified").exists()


def test_the_breach_admin_shows_the_deadline(team: Any, staff_client: Any) -> None:
    BreachIncident.objects.create(
        title="Old", description="x", detected_at=timezone.now() - timedelta(hours=80)
    )
    page = staff_client.get(reverse("admin:compliance_breachincident_changelist")).content.decode()
    assert "(passed)" in page and "dsar-overdue" in page


def test_housekeeping_expires_exports_and_stale_requests_and_alerts_staff(
    committed: Any, storage_dir: Any, settings: Any
) -> None:
    with time_machine.travel("2026-01-01 09:00Z", tick=False):
        export, _ = services.store_export(b"PK fake zip")
        stale = DataSubjectRequest.objects.create(
            request_type="access",
            email="a@example.com",
            email_sha256="a",
            received_at=timezone.now(),
            due_at=timezone.now() + timedelta(days=30),
        )
        overdue = DataSubjectRequest.objects.create(
            request_type="rectification",
            email="b@example.com",
            email_sha256="b",
            received_at=timezone.now(),
            due_at=timezone.now() + timedelta(days=30),
            status=DsarStatus.IN_PROGRESS,
        )
        BreachIncident.objects.create(title="Lost laptop", description="x", detected_at=timezone.now())
    assert (storage_dir / export.storage_key).exists()

    with time_machine.travel("2026-02-15 03:07Z", tick=False), committed():
        counts = housekeeping.run_daily_housekeeping()

    assert counts["exports_deleted"] == 1 and not (storage_dir / export.storage_key).exists()
    assert DataExport.objects.get().deleted_at is not None
    # Never verified: closed as unverifiable and minimised, not silently deleted.
    assert counts["unverified_requests_closed"] == 1
    stale.refresh_from_db()
    assert stale.status == DsarStatus.DENIED and stale.email == "" and stale.closed_at is not None
    assert counts["overdue_requests"] == 1 and counts["breaches_awaiting_notice"] == 1
    digest = mail.outbox[-1]
    assert digest.to == [settings.PROPORTRAIT_PRIVACY_EMAIL]
    text, html = message_parts(digest)
    assert overdue.reference in text and "Lost laptop" in html


def test_housekeeping_prunes_the_audit_log_past_its_retention(settings: Any) -> None:
    from compliance.audit import record_event, verify_chain

    settings.COMPLIANCE_AUDIT_RETENTION_DAYS = 30
    with time_machine.travel("2026-01-01 09:00Z", tick=False):
        record_event("old.event")
    with time_machine.travel("2026-03-01 09:00Z", tick=False):
        counts = housekeeping.run_daily_housekeeping()
    assert counts["audit_events_pruned"] == 1
    assert not AuditEvent.objects.filter(action="old.event").exists() and verify_chain().ok


def test_the_daily_task_is_the_one_the_beat_schedule_names(settings: Any) -> None:
    from compliance import tasks

    assert settings.CELERY_BEAT_SCHEDULE["compliance-daily"]["task"] == tasks.run_daily_housekeeping.name
    assert tasks.run_daily_housekeeping.apply().get()["exports_deleted"] == 0


def test_an_organisation_admin_objects_through_the_site(team: Any) -> None:
    from compliance.tests.conftest import otp_client

    url = reverse("compliance:subprocessor_objection", args=[team.organisation.slug])
    response = otp_client(team.admin).post(url, {"reason": "We need EU-only email", "next": "/accounts/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/"
    objection = SubprocessorObjection.objects.get()
    assert objection.raised_by == team.admin and objection.organisation == team.organisation

    assert otp_client(team.member).post(url, {"reason": "x"}).status_code == 403
    assert otp_client(team.outsider).post(url, {"reason": "x"}).status_code == 404
    empty = otp_client(team.owner).post(url, {"reason": " "}, follow=True)
    assert "Say what you object to" in empty.content.decode()
    assert SubprocessorObjection.objects.count() == 1


def test_an_organisation_erasure_removes_its_dpa_acceptances(team: Any) -> None:
    from compliance.models import DpaAcceptance

    services.accept_dpa(organisation=team.organisation, user=team.owner)
    certificate = services.erase_subject(
        services.Subject(organisation_id=team.organisation.pk), reason="organisation_deleted", actor="staff:1"
    )
    assert certificate.scope["erased"]["compliance"]["dpa_acceptances"] == 1
    assert not DpaAcceptance.objects.exists()


def test_a_certificate_link_stops_working_after_its_lifetime(client: Any, settings: Any) -> None:
    from compliance.services.dsar import certificate_url

    settings.COMPLIANCE_CERTIFICATE_LINK_DAYS = 90
    with time_machine.travel("2026-01-01 00:00Z", tick=False):
        certificate = services.erase_subject(services.Subject(user_id=1), reason="dsar_erasure", actor="x")
        url = certificate_url(certificate.pk).removeprefix(settings.SITE_URL)
        assert client.get(url).status_code == 200
    with time_machine.travel("2026-04-02 00:00Z", tick=False):
        assert client.get(url).status_code == 404
