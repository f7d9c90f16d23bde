"""Signed checkpoints leave the database: a storage object, a mail to the DPO, a public page."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core import mail
from django.urls import reverse

from compliance import checkpoints
from compliance.audit import record_event
from compliance.models import AuditChainHead, AuditCheckpoint, AuditEvent
from compliance.tasks import sign_audit_checkpoint
from compliance.tests.conftest import message_parts

pytestmark = pytest.mark.django_db


def _verify(public_key_b64: str, signature_b64: str, payload: str) -> None:
    Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64)).verify(
        base64.b64decode(signature_b64), payload.encode()
    )


def test_it_publishes_a_signed_head_to_storage_and_the_dpo(
    committed: Any, storage_dir: Any, settings: Any
) -> None:
    record_event("job.created", object_id="j1")
    last = record_event("job.done", object_id="j1")
    with committed():
        checkpoint = checkpoints.sign_checkpoint()

    checkpoint.refresh_from_db()
    head = AuditChainHead.objects.get(id=1)
    assert (
        (checkpoint.sequence, checkpoint.head_hash)
        == (last.sequence, last.hash)
        == (
            head.last_sequence,
            head.last_hash,
        )
    )
    # 1. The storage object holds the signed text, and the signature verifies with the public key.
    stored = json.loads((storage_dir / checkpoint.storage_key).read_text())
    assert json.loads(stored["payload"])["hash"] == last.hash
    _verify(checkpoints.public_keys()[checkpoint.key_id], stored["signature"], stored["payload"])
    # 2. The DPO got the same document, in both parts.
    [message] = mail.outbox
    assert message.to == [settings.PROPORTRAIT_DPO_EMAIL]
    text, html = message_parts(message)
    assert stored["signature"] in text and last.hash in text
    assert last.hash in html
    assert checkpoint.published_at and checkpoint.mailed_at


def test_storage_objects_are_never_overwritten(committed: Any) -> None:
    record_event("job.created", object_id="j1")
    with committed():
        checkpoint = checkpoints.sign_checkpoint()
    checkpoint.refresh_from_db()
    from compliance import storage

    with pytest.raises(FileExistsError):
        storage.append_object(checkpoint.storage_key, b"{}")


def test_the_public_page_shows_the_latest_signed_head_and_key(client: Any, committed: Any) -> None:
    record_event("job.created", object_id="j1")
    with committed():
        checkpoints.sign_checkpoint()
    newest = record_event("job.done", object_id="j1")
    with committed():
        latest = checkpoints.sign_checkpoint()

    page = client.get(reverse("compliance:audit_checkpoint")).content.decode()
    as_json = client.get(reverse("compliance:audit_checkpoint_json")).json()

    assert newest.hash in page and latest.signature in page
    public_key = checkpoints.public_keys()[latest.key_id]
    assert public_key in page
    # What the page publishes verifies on its own, with nothing from our database.
    _verify(as_json["public_keys"][latest.key_id], as_json["signature"], as_json["payload"])
    assert json.loads(as_json["payload"])["hash"] == newest.hash


def test_the_page_says_when_nothing_is_signed_yet(client: Any) -> None:
    response = client.get(reverse("compliance:audit_checkpoint"))
    assert response.status_code == 200
    assert "No checkpoint has been signed yet" in response.content.decode()
    assert client.get(reverse("compliance:audit_checkpoint_json")).status_code == 404


def test_the_scheduled_task_signs_only_when_the_log_grew(committed: Any) -> None:
    with committed():
        assert sign_audit_checkpoint() is None  # nothing to sign
        record_event("job.created", object_id="j1")
        first = sign_audit_checkpoint()
    assert first == AuditEvent.objects.order_by("-sequence").first().sequence  # type: ignore[union-attr]
    with committed():
        assert sign_audit_checkpoint() is None  # nothing new since
        record_event("job.done", object_id="j1")
        assert sign_audit_checkpoint() == first + 1
    assert AuditCheckpoint.objects.filter(published_at__isnull=False).count() == 2


def test_a_publication_that_failed_is_retried(committed: Any, monkeypatch: Any) -> None:
    from compliance import storage

    record_event("job.created", object_id="j1")

    def broken(*args: Any, **kwargs: Any) -> str:
        raise OSError("storage down")

    monkeypatch.setattr(storage, "append_object", broken)
    with pytest.raises(OSError), committed():
        checkpoint = checkpoints.sign_checkpoint()
    checkpoint = AuditCheckpoint.objects.get()
    assert checkpoint.published_at is None

    monkeypatch.undo()
    with time_machine.travel("2030-01-01 00:00Z"), committed():
        assert checkpoints.publish_pending() == 1
    checkpoint.refresh_from_db()
    assert checkpoint.published_at is not None and checkpoint.storage_key


def test_staff_sign_a_checkpoint_from_the_admin(
    staff_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    record_event("job.created", object_id="j1")
    url = reverse("admin:compliance_auditcheckpoint_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, {"action": "sign_now"}, follow=True)
    assert "signed" in response.content.decode()
    checkpoint = AuditCheckpoint.objects.get()
    assert checkpoint.reason == "manual" and checkpoint.published_at is not None
    event = AuditEvent.objects.get(action="audit.checkpoint_signed")
    assert event.actor.startswith("staff:") and event.data["sequence"] == checkpoint.sequence
