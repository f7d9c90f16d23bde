"""Master key rotation: data keys are re-wrapped, data stays readable, the old key can go."""

from __future__ import annotations

import base64
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from compliance.models import AuditEvent
from portraits import crypto
from portraits.models import DataKey, DataKeyPurpose

pytestmark = pytest.mark.django_db

OLD = "old:" + base64.b64encode(b"o" * 32).decode()
NEW = "new:" + base64.b64encode(b"n" * 32).decode()


def test_rotation_rewraps_live_keys_and_the_old_master_key_can_be_removed(settings: Any) -> None:
    settings.PROPORTRAIT_MASTER_KEYS = OLD
    data_key, raw_key = crypto.create_data_key(DataKeyPurpose.RESULTS)
    blob = crypto.encrypt(raw_key, b"portrait bytes", b"aad")
    shredded, _ = crypto.create_data_key(DataKeyPurpose.ORIGINAL)
    crypto.destroy_data_key(shredded)

    settings.PROPORTRAIT_MASTER_KEYS = f"{NEW},{OLD}"
    output = StringIO()
    call_command("rotate_master_key", stdout=output)
    assert "re-wrapped 1 data keys under master key 'new'; 0 remain" in output.getvalue()

    settings.PROPORTRAIT_MASTER_KEYS = NEW  # the old master key is gone
    data_key.refresh_from_db()
    assert data_key.master_key_id == "new"
    assert crypto.decrypt(crypto.unwrap_data_key(data_key), blob, b"aad") == b"portrait bytes"
    shredded.refresh_from_db()
    assert shredded.wrapped_key is None and shredded.master_key_id == "old"
    assert AuditEvent.objects.filter(action="keys.rewrapped").exists()


def test_a_key_wrapped_by_a_removed_master_key_is_a_clear_configuration_error(settings: Any) -> None:
    from django.core.exceptions import ImproperlyConfigured

    settings.PROPORTRAIT_MASTER_KEYS = OLD
    data_key, _ = crypto.create_data_key(DataKeyPurpose.RESULTS)
    settings.PROPORTRAIT_MASTER_KEYS = NEW
    with pytest.raises(ImproperlyConfigured, match="'old' is needed"):
        crypto.unwrap_data_key(DataKey.objects.get(pk=data_key.pk))


@pytest.mark.parametrize("raw", ["nocolon", "k:not-base64!!", "k:" + base64.b64encode(b"short").decode()])
def test_malformed_master_keys_are_refused(settings: Any, raw: str) -> None:
    from django.core.exceptions import ImproperlyConfigured

    settings.PROPORTRAIT_MASTER_KEYS = raw
    with pytest.raises(ImproperlyConfigured):
        crypto.master_keys()
