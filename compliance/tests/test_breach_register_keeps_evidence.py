"""The breach register changes only through services that leave evidence (Arts. 33(5), 34).

Found in review: a breach created in the admin left no `breach.reported` event, and setting
"authority notified" afterwards silently turned the 72-hour deadline from "passed" into "met".
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from compliance.models import AuditEvent, BreachCommunication, BreachIncident, BreachIncidentVersion
from compliance.services import breaches
from compliance.tests.conftest import message_parts

pytestmark = pytest.mark.django_db

ADD_URL = "admin:compliance_breachincident_add"


def _form(**overrides: Any) -> dict[str, Any]:
    data = {
        "title": "Export link misdirected",
        "description": "One export link went to a wrong address.",
        "detected_at_0": "2026-06-01",
        "detected_at_1": "09:00:00",
        "status": "open",
        "nature": "Confidentiality: one access export readable by a stranger.",
        "subject_categories": "Account holders",
        "affected_subjects_count": "1",
        "record_categories": "Email address, portraits",
        "affected_records_count": "5",
        "likely_consequences": "Low: the link expired unopened.",
        "measures_taken": "Link revoked.",
        "measures_proposed": "Confirm the address twice.",
        "jurisdictions": ["gdpr", "washington"],
        "change_reason": "",
        "affected-TOTAL_FORMS": "0",
        "affected-INITIAL_FORMS": "0",
        "affected-MIN_NUM_FORMS": "0",
        "affected-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def test_a_breach_created_in_the_admin_is_reported_through_the_service(staff_client: Any, team: Any) -> None:
    data = _form(
        **{
            "affected-TOTAL_FORMS": "1",
            "affected-0-organisation": str(team.organisation.pk),
            "affected-0-affected_subjects_count": "3",
        }
    )
    with time_machine.travel("2026-06-01 10:00Z", tick=False):
        response = staff_client.post(reverse(ADD_URL), data)
    assert response.status_code == 302, response.content.decode()[:2000]

    incident = BreachIncident.objects.get()
    assert incident.nature.startswith("Confidentiality") and incident.affected_records_count == 5
    assert incident.jurisdictions == ["gdpr", "washington"]
    event = AuditEvent.objects.get(action="breach.reported")
    assert event.object_id == str(incident.pk) and event.actor.startswith("staff:")
    assert BreachIncidentVersion.objects.get(incident=incident).version == 1
    assert AuditEvent.objects.filter(action="breach.organisation_affected").count() == 1
    assert incident.affected.get().affected_subjects_count == 3


def test_an_edit_needs_a_reason_and_keeps_the_old_version(staff_client: Any) -> None:
    with time_machine.travel("2026-06-01 10:00Z", tick=False):
        incident = breaches.report_breach(
            title="Lost laptop", description="x", detected_at=timezone.now(), actor="staff:1"
        )
        url = reverse("admin:compliance_breachincident_change", args=[incident.pk])
        detected = {"detected_at_0": "2026-06-01", "detected_at_1": "10:00:00"}
        refused = staff_client.post(url, _form(title="Lost laptop", description="y", **detected), follow=True)
        assert "Say why the breach record changes" in refused.content.decode()
        assert BreachIncident.objects.get().description == "x"

        staff_client.post(
            url, _form(title="Lost laptop", description="y", change_reason="Forensics report", **detected)
        )
    incident.refresh_from_db()
    assert incident.description == "y" and incident.version == 2
    versions = {v.version: v for v in incident.versions.all()}
    assert versions[1].values["description"] == "x"
    assert versions[2].values["description"] == "y" and versions[2].reason == "Forensics report"
    assert AuditEvent.objects.filter(action="breach.updated", object_id=str(incident.pk)).count() == 1


def test_the_edit_form_cannot_set_the_notification_time(staff_client: Any) -> None:
    incident = breaches.report_breach(
        title="Lost laptop",
        description="x",
        detected_at=timezone.now() - timedelta(hours=80),
        actor="staff:1",
    )
    url = reverse("admin:compliance_breachincident_change", args=[incident.pk])
    now = timezone.now()
    staff_client.post(
        url,
        _form(
            title="Lost laptop",
            description="x",
            detected_at_0=f"{incident.detected_at:%Y-%m-%d}",
            detected_at_1=f"{incident.detected_at:%H:%M:%S}",
            authority_notified_at_0=f"{now:%Y-%m-%d}",
            authority_notified_at_1="00:00:00",
            change_reason="try",
        ),
    )
    assert BreachIncident.objects.get().authority_notified_at is None


def test_a_back_dated_notification_needs_a_reason_and_never_reads_as_plainly_met(staff_client: Any) -> None:
    with time_machine.travel("2026-06-01 09:00Z", tick=False):
        incident = breaches.report_breach(
            title="Lost laptop", description="x", detected_at=timezone.now(), actor="staff:1"
        )
    changelist = reverse("admin:compliance_breachincident_changelist")
    with time_machine.travel("2026-06-05 12:00Z", tick=False):
        assert "(passed)" in staff_client.get(changelist).content.decode()
        action = {"action": "record_authority_notified", "_selected_action": [incident.pk]}
        refused = staff_client.post(changelist, {**action, "when": "2026-06-03 08:00"}, follow=True)
        assert "needs a reason" in refused.content.decode()
        assert BreachIncident.objects.get().authority_notified_at is None

        staff_client.post(
            changelist, {**action, "when": "2026-06-03 08:00", "reason": "Phoned the ICO; logged late"}
        )
        page = staff_client.get(changelist).content.decode()

    incident.refresh_from_db()
    assert incident.authority_notice_backdated
    assert f"{incident.authority_notice_recorded_at:%Y-%m-%dT%H:%M}" == "2026-06-05T12:00"
    assert "met, back-dated: recorded 2026-06-05 12:00" in page
    event = AuditEvent.objects.get(action="breach.authority_notified")
    assert event.data["backdated"] is True and event.data["deadline_met"] is True
    with pytest.raises(breaches.BreachError, match="already recorded"):
        breaches.record_authority_notification(incident, actor="staff:1")


def test_a_late_notification_shows_as_missed() -> None:
    with time_machine.travel("2026-06-01 09:00Z", tick=False):
        incident = breaches.report_breach(
            title="Lost laptop", description="x", detected_at=timezone.now(), actor="staff:1"
        )
    with time_machine.travel("2026-06-06 09:00Z", tick=False):
        incident = breaches.record_authority_notification(incident, actor="staff:1")
        states = {clock.deadline.key: clock.state for clock in breaches.clocks(incident)}
    assert states["gdpr"] == "missed"


def test_notification_times_cannot_be_in_the_future() -> None:
    incident = breaches.report_breach(title="x", description="x", detected_at=timezone.now(), actor="s")
    with pytest.raises(breaches.BreachError, match="future"):
        breaches.record_authority_notification(
            incident, actor="s", notified_at=timezone.now() + timedelta(hours=2), reason="x"
        )
    with pytest.raises(breaches.BreachError, match="future"):
        breaches.report_breach(
            title="x", description="x", detected_at=timezone.now() + timedelta(days=1), actor="s"
        )


def test_each_jurisdiction_has_its_clock() -> None:
    with time_machine.travel("2026-06-01 09:00Z", tick=False):
        incident = breaches.report_breach(
            title="x",
            description="x",
            detected_at=timezone.now(),
            actor="s",
            jurisdictions=["gdpr", "texas", "texas_ag", "washington", "colorado", "illinois", "california"],
        )
    with time_machine.travel("2026-06-20 09:00Z", tick=False):
        clocks = {clock.deadline.key: clock for clock in breaches.clocks(incident)}
    assert clocks["gdpr"].state == "passed"
    assert f"{clocks['texas'].due_at:%Y-%m-%d}" == "2026-07-31"  # 60 days
    assert f"{clocks['texas_ag'].due_at:%Y-%m-%d}" == "2026-07-01"  # 30 days
    assert clocks["washington"].state == "running" and round(clocks["washington"].hours_left or 0) == 11 * 24
    assert clocks["colorado"].due_at == clocks["washington"].due_at
    assert clocks["illinois"].state == clocks["california"].state == "no fixed deadline"
    with pytest.raises(breaches.BreachError, match="unknown jurisdictions"):
        breaches.report_breach(
            title="x", description="x", detected_at=timezone.now(), actor="s", jurisdictions=["mars"]
        )


def test_the_staff_page_shows_the_clocks(staff_client: Any) -> None:
    incident = breaches.report_breach(
        title="Lost laptop",
        description="x",
        detected_at=timezone.now() - timedelta(hours=10),
        actor="s",
        jurisdictions=["gdpr", "washington"],
    )
    page = staff_client.get(
        reverse("admin:compliance_breachincident_change", args=[incident.pk])
    ).content.decode()
    assert "GDPR Art. 33(1)" in page and "RCW 19.255.010" in page
    assert "62 h left" in page
    assert "dpo@proportrait.example" in page


def test_people_affected_are_told_through_the_mail_path_and_it_is_recorded(
    committed: Any, settings: Any
) -> None:
    incident = breaches.report_breach(
        title="Export link misdirected",
        description="x",
        detected_at=timezone.now(),
        actor="s",
        nature="One export readable by a stranger.",
        likely_consequences="Someone may have seen your portraits.",
        measures_taken="Link revoked.",
    )
    with committed():
        communication = breaches.communicate_to_subjects(
            incident, recipients=["A@example.com", "a@example.com", "b@example.com"], actor="staff:1"
        )

    assert communication.recipients_count == 2 and len(mail.outbox) == 2
    text, html = message_parts(mail.outbox[0])
    for body in (text, html):
        assert "One export readable by a stranger." in body
        assert "Someone may have seen your portraits." in body and "Link revoked." in body
        assert settings.PROPORTRAIT_DPO_EMAIL in body
    incident.refresh_from_db()
    assert incident.subjects_notified_at is not None and incident.subjects_notified_count == 2
    assert BreachCommunication.objects.get().recipients_count == 2
    event = AuditEvent.objects.get(action="breach.subjects_notified")
    assert event.data == {"recipients": 2, "template": "breach-communication"}  # no addresses
    with pytest.raises(breaches.BreachError):
        breaches.communicate_to_subjects(incident, recipients=[" "], actor="staff:1")


def test_breaches_cannot_be_deleted_in_the_admin(staff_client: Any) -> None:
    incident = breaches.report_breach(title="x", description="x", detected_at=timezone.now(), actor="s")
    response = staff_client.post(
        reverse("admin:compliance_breachincident_delete", args=[incident.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert BreachIncident.objects.filter(pk=incident.pk).exists()


def test_staff_tell_the_people_affected_from_the_admin(staff_client: Any, committed: Any) -> None:
    incident = breaches.report_breach(
        title="Lost laptop", description="x", detected_at=timezone.now() - timedelta(hours=10), actor="s"
    )
    changelist = reverse("admin:compliance_breachincident_changelist")
    assert "GDPR Art. 33" not in staff_client.get(changelist).content.decode()  # the column is short
    assert "62 h left" in staff_client.get(changelist).content.decode()
    with committed():
        staff_client.post(
            changelist,
            {
                "action": "communicate_to_subjects",
                "_selected_action": [incident.pk],
                "reason": "a@example.com, b@example.com",
            },
        )
    assert sorted(m.to[0] for m in mail.outbox) == ["a@example.com", "b@example.com"]
    assert BreachCommunication.objects.get(incident=incident).recipients_count == 2
