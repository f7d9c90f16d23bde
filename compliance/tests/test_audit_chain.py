"""The audit log is append-only and tamper-evident; the command and the admin action prove it."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from compliance.audit import prune_events, record_event, verify_chain
from compliance.models import AuditEvent
from compliance.tests import tamper

pytestmark = pytest.mark.django_db


def _three_events() -> list[AuditEvent]:
    return [
        record_event(
            "job.created", actor="anonymous_job:1", object_type="job", object_id="j1", data={"n": 1}
        ),
        record_event("job.done", actor="system", object_type="job", object_id="j1", data={"portraits": 4}),
        record_event("job.deleted", actor="system", object_type="job", object_id="j1"),
    ]


def test_it_links_each_event_to_the_previous_hash() -> None:
    first, second, third = _three_events()
    assert second.previous_hash == first.hash
    assert third.previous_hash == second.hash
    assert verify_chain().ok


def test_it_catches_a_tampered_row_and_names_the_first_broken_link() -> None:
    _, second, _ = _three_events()
    # An attacker with database access edits an event below the ORM's append-only guard.
    tamper.set_event_data(second.sequence, {"portraits": 0})

    report = verify_chain()

    assert not report.ok
    assert report.first_broken_sequence == second.sequence
    assert "edited" in report.reason


def test_it_catches_a_deleted_row() -> None:
    _, second, third = _three_events()
    tamper.delete_events("sequence = %s", [second.sequence])

    report = verify_chain()

    assert not report.ok
    assert report.first_broken_sequence == third.sequence


def test_it_catches_removal_of_the_newest_events() -> None:
    _, _, third = _three_events()
    tamper.delete_events("sequence = %s", [third.sequence])

    report = verify_chain()

    assert not report.ok
    assert "head" in report.reason


def test_the_orm_refuses_to_edit_or_delete_an_event() -> None:
    event = record_event("x.y")
    event.action = "changed"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()


@pytest.mark.parametrize(
    "data",
    [
        {"email": "someone@example.com"},
        {"note": "mail me at someone@example.com"},
        {"signature_name": "Jane"},
        {"image": b"\xff\xd8\xff"},
        {"free_text": "x" * 500},
    ],
)
def test_it_refuses_personal_or_image_data(data: dict) -> None:
    with pytest.raises(ValueError):
        record_event("x.y", data=data)
    assert not AuditEvent.objects.exists()


def test_the_command_reports_an_intact_chain(capsys: pytest.CaptureFixture[str]) -> None:
    _three_events()
    call_command("verify_audit_chain")
    assert "intact: 3 events verified" in capsys.readouterr().out


def test_the_command_fails_at_the_first_broken_link() -> None:
    first, _, _ = _three_events()
    tamper.run_as_table_owner(
        "UPDATE compliance_auditevent SET actor = 'someone-else' WHERE sequence = %s", [first.sequence]
    )
    with pytest.raises(CommandError, match=f"event #{first.sequence}"):
        call_command("verify_audit_chain")


def test_the_admin_action_verifies_the_chain(staff_client) -> None:
    client = staff_client
    _, second, _ = _three_events()
    url = reverse("admin:compliance_auditevent_changelist")

    response = client.post(url, {"action": "verify", "_selected_action": [second.pk]}, follow=True)
    assert "Audit chain intact: 3 events verified, 0 signed checkpoints matched." in response.content.decode()

    tamper.run_as_table_owner(
        "UPDATE compliance_auditevent SET object_id = 'forged' WHERE sequence = %s", [second.sequence]
    )
    response = client.post(url, {"action": "verify", "_selected_action": [second.pk]}, follow=True)
    assert f"Audit chain BROKEN at event #{second.sequence}" in response.content.decode()


def test_pruning_keeps_the_rest_of_the_chain_verifiable() -> None:
    import time_machine

    with time_machine.travel("2020-01-01 00:00Z"):
        _three_events()
    with time_machine.travel("2026-06-01 00:00Z"):
        kept = record_event("job.created", object_id="j2")
        assert prune_events(before=kept.occurred_at) == 3
    assert AuditEvent.objects.filter(action="audit.pruned").exists()
    assert verify_chain().ok
