"""Where keys live: an original's data key only in the volatile store, for the dead-man limit at
most; results keys in the database as before. The stores themselves: private, forgetful, and a
Redis that writes to disk is refused."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from portraits import crypto, keystore
from portraits.models import DataKey, DataKeyPurpose
from tests.support import REPO, wait_for

pytestmark = pytest.mark.django_db


def test_it_keeps_an_original_key_out_of_the_database_for_at_most_the_deadman_limit(settings: Any) -> None:
    started = time.time()
    data_key, raw_key = crypto.create_data_key(DataKeyPurpose.ORIGINAL)

    row = DataKey.objects.get(pk=data_key.pk)
    assert row.wrapped_key is None and row.destroyed_at is None
    assert crypto.unwrap_data_key(row) == raw_key  # read from the volatile store
    _, _, expires_at = crypto._get_volatile(row)
    limit_seconds = settings.PROPORTRAIT_ORIGINAL_DEADMAN_MINUTES * 60
    assert started + limit_seconds - 5 <= expires_at <= time.time() + limit_seconds
    if settings.PROPORTRAIT_KEYSTORE_URL:  # production: Redis enforces the same time-to-live
        import redis

        ttl = redis.Redis.from_url(settings.PROPORTRAIT_KEYSTORE_URL).ttl(keystore.REDIS_PREFIX + str(row.id))
        assert limit_seconds - 5 <= ttl <= limit_seconds

    assert crypto.destroy_data_key(row)
    assert keystore.get_keystore().get(str(row.id)) is None
    with pytest.raises(crypto.KeyDestroyed):
        crypto.unwrap_data_key(row)


def test_it_keeps_results_keys_in_the_database() -> None:
    data_key, raw_key = crypto.create_data_key(DataKeyPurpose.RESULTS)
    row = DataKey.objects.get(pk=data_key.pk)
    assert row.wrapped_key
    assert keystore.get_keystore().get(str(row.id)) is None
    assert crypto.unwrap_data_key(row) == raw_key


def test_it_forgets_a_value_once_its_time_to_live_has_passed(settings: Any) -> None:
    stores: list[keystore.VolatileKeyStore] = [keystore.get_keystore()]
    holder = keystore.KeyHolder()
    holder.put("in-memory", b"value", 1)
    for store in stores:
        store.put("short-lived", b"value", 1)
        assert store.get("short-lived") == b"value"
    time.sleep(1.3)
    assert holder.get("in-memory") is None and holder.count() == 0
    for store in stores:
        assert store.get("short-lived") is None


def test_the_key_holder_answers_only_through_a_private_socket(tmp_path: Path) -> None:
    socket_path = tmp_path / "keyholder" / "keys.sock"
    process = subprocess.Popen(
        [sys.executable, "-m", "portraits.keystore", "serve", "--socket", str(socket_path)], cwd=REPO
    )
    try:
        assert wait_for(socket_path.exists, timeout=10)
        assert stat.S_IMODE(os.stat(socket_path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(socket_path.parent).st_mode) == 0o700
        store = keystore.SocketKeyStore(socket_path, spawn=False)
        store.put("name", b"value", 60)
        assert store.get("name") == b"value"
        # A second holder for the same socket steps aside rather than taking over.
        second = subprocess.run(
            [sys.executable, "-m", "portraits.keystore", "serve", "--socket", str(socket_path)],
            cwd=REPO,
            timeout=30,
        )
        assert second.returncode == 0 and store.get("name") == b"value"
        store.shutdown()
        process.wait(timeout=10)
        assert not socket_path.exists()
        with pytest.raises(keystore.KeyStoreUnavailable):
            store.get("name")
    finally:
        if process.poll() is None:
            process.kill()


class _PersistentRedis:
    def __init__(self, save: str, appendonly: str) -> None:
        self.values = {"save": save, "appendonly": appendonly}

    def config_get(self, name: str) -> dict[str, str]:
        return {name: self.values[name]}


@pytest.mark.parametrize(("save", "appendonly"), [("3600 1 300 100", "no"), ("", "yes")])
def test_it_refuses_a_redis_that_writes_keys_to_disk(
    save: str, appendonly: str, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = keystore.RedisKeyStore("redis://127.0.0.1:6379/0")
    store._redis = _PersistentRedis(save, appendonly)
    with pytest.raises(keystore.KeyStoreNotVolatile, match="persists data"):
        store.put("name", b"value", 60)
    # `manage.py check --deploy` says so before any upload is refused.
    settings.PROPORTRAIT_KEYSTORE_URL = "redis://keys.example:6379/0"
    monkeypatch.setattr(keystore, "get_keystore", lambda: store)
    [error] = keystore.check_keystore_is_volatile()
    assert error.id == "portraits.E001" and "appendonly no" in error.msg
    store._redis = _PersistentRedis("", "no")
    assert keystore.check_keystore_is_volatile() == []


def test_rotation_rewraps_a_running_original_key_in_the_volatile_store(settings: Any) -> None:
    old = "old:" + base64.b64encode(b"o" * 32).decode()
    new = "new:" + base64.b64encode(b"n" * 32).decode()
    settings.PROPORTRAIT_MASTER_KEYS = old
    data_key, raw_key = crypto.create_data_key(DataKeyPurpose.ORIGINAL)
    _, _, expires_before = crypto._get_volatile(data_key)

    settings.PROPORTRAIT_MASTER_KEYS = f"{new},{old}"
    output = StringIO()
    call_command("rotate_master_key", stdout=output)
    assert "0 remain" in output.getvalue()

    settings.PROPORTRAIT_MASTER_KEYS = new  # the old master key is gone
    row = DataKey.objects.get(pk=data_key.pk)
    assert row.master_key_id == "new" and row.wrapped_key is None
    assert crypto.unwrap_data_key(row) == raw_key
    master_key_id, _, expires_after = crypto._get_volatile(row)
    assert master_key_id == "new"
    assert abs(expires_after - expires_before) < 5  # rotation does not extend its life
    crypto.destroy_data_key(row)
