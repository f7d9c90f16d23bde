"""The HMAC key has an id and rotates: old events keep verifying while their key is kept."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from compliance.audit import record_event, verify_chain

pytestmark = pytest.mark.django_db

OLD = "audit1:" + base64.b64encode(b"h" * 32).decode()
NEW = "audit2:" + base64.b64encode(b"n" * 32).decode()


def test_events_name_their_key_and_verify_across_a_rotation(settings: Any) -> None:
    settings.PROPORTRAIT_AUDIT_HMAC_KEYS = OLD
    before = record_event("job.created", object_id="j1")
    settings.PROPORTRAIT_AUDIT_HMAC_KEYS = f"{NEW},{OLD}"
    after = record_event("job.done", object_id="j1")

    assert (before.key_id, after.key_id) == ("audit1", "audit2")
    assert verify_chain().ok


def test_dropping_a_key_still_in_use_is_reported(settings: Any) -> None:
    settings.PROPORTRAIT_AUDIT_HMAC_KEYS = OLD
    first = record_event("job.created", object_id="j1")
    settings.PROPORTRAIT_AUDIT_HMAC_KEYS = NEW

    report = verify_chain()

    assert not report.ok
    assert report.first_broken_sequence == first.sequence
    assert "unknown key id 'audit1'" in report.reason


def test_a_different_key_does_not_verify(settings: Any) -> None:
    settings.PROPORTRAIT_AUDIT_HMAC_KEYS = OLD
    record_event("job.created", object_id="j1")
    settings.PROPORTRAIT_AUDIT_HMAC_KEYS = "audit1:" + base64.b64encode(b"x" * 32).decode()

    assert "keyed hash" in verify_chain().reason


def test_a_retired_signing_key_still_verifies_its_checkpoints(settings: Any, committed: Any) -> None:
    from compliance import checkpoints

    settings.PROPORTRAIT_AUDIT_SIGNING_KEYS = "sign1:" + base64.b64encode(b"s" * 32).decode()
    record_event("job.created", object_id="j1")
    with committed():
        old = checkpoints.sign_checkpoint()
    retired_public = checkpoints.public_keys()["sign1"]

    # The new key signs; the old seed is destroyed and only its public key is kept.
    settings.PROPORTRAIT_AUDIT_SIGNING_KEYS = "sign2:" + base64.b64encode(b"t" * 32).decode()
    assert "signed with an unknown key id 'sign1'" in verify_chain().reason
    settings.PROPORTRAIT_AUDIT_RETIRED_PUBLIC_KEYS = f"sign1:{retired_public}"
    record_event("job.done", object_id="j1")
    with committed():
        new = checkpoints.sign_checkpoint()

    report = verify_chain()
    assert report.ok and report.checkpoints_checked == 2
    assert (old.key_id, new.key_id) == ("sign1", "sign2")
