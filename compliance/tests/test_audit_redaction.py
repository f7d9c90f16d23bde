"""The one documented way to change a stored event: redact its data, leave a trace, keep the chain."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from compliance.audit import BYPASS_SETTING, record_event, redact_event, verify_chain
from compliance.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_it_blanks_the_data_keeps_the_chain_and_records_the_redaction() -> None:
    event = record_event("job.created", object_id="j1", data={"style": "studio-grey"})
    record_event("job.done", object_id="j1")

    redacted = redact_event(event.sequence, reason="personal_data_logged", actor="dpo")

    assert redacted.data == {"redacted": True} and redacted.redacted_at is not None
    assert redacted.hash == event.hash  # the chain covers the data's digest, which stays
    trace = AuditEvent.objects.get(action="audit.redacted")
    assert trace.object_id == str(event.sequence)
    assert trace.actor == "dpo" and trace.data["reason"] == "personal_data_logged"
    assert verify_chain().ok


def test_it_refuses_an_unknown_reason() -> None:
    event = record_event("job.created", object_id="j1")
    with pytest.raises(ValueError, match="reason must be one of"):
        redact_event(event.sequence, reason="because", actor="dpo")
    assert not AuditEvent.objects.filter(action="audit.redacted").exists()


def test_the_command_redacts(capsys: pytest.CaptureFixture[str]) -> None:
    event = record_event("job.created", object_id="j1", data={"n": 1})
    call_command("redact_audit_event", str(event.sequence), reason="court_order", actor="staff:1")
    assert "redacted" in capsys.readouterr().out
    assert AuditEvent.objects.get(sequence=event.sequence).redacted_at is not None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the append-only trigger is PostgreSQL's")
def test_even_the_redaction_path_cannot_change_anything_but_the_data() -> None:
    event = record_event("erasure.completed", object_id="e1", data={"portraits_deleted": 4})
    with pytest.raises(DatabaseError, match="data and redacted_at only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, 'on', true)", [BYPASS_SETTING])
        AuditEvent.objects.filter(sequence=event.sequence).update(action="job.viewed")
    assert AuditEvent.objects.get(sequence=event.sequence).action == "erasure.completed"
