"""The embedded default generates its keys once into var/secrets.env, audit keys included, and adds
the audit keys to a file written before they existed."""

from __future__ import annotations

import base64
import importlib.util
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
AUDIT_KEYS = ("PROPORTRAIT_AUDIT_HMAC_KEYS", "PROPORTRAIT_AUDIT_SIGNING_KEYS")


def _load() -> Any:
    spec = importlib.util.spec_from_file_location(
        "run_embedded_under_test", REPO / "scripts" / "run_embedded.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    # Registered first: the script's dataclasses look their module up in sys.modules.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _key_bytes(value: str) -> bytes:
    key_id, _, encoded = value.partition(":")
    assert key_id
    return base64.b64decode(encoded)


def test_a_new_file_holds_every_key_and_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in AUDIT_KEYS:
        monkeypatch.delenv(name, raising=False)
    values = _load().load_or_create_secrets(tmp_path)

    for name in ("SECRET_KEY", "PROPORTRAIT_MASTER_KEYS", *AUDIT_KEYS):
        assert values[name]
    assert len(_key_bytes(values["PROPORTRAIT_AUDIT_HMAC_KEYS"])) == 32
    assert len(_key_bytes(values["PROPORTRAIT_AUDIT_SIGNING_KEYS"])) == 32
    assert values["PROPORTRAIT_AUDIT_HMAC_KEYS"] != values["PROPORTRAIT_AUDIT_SIGNING_KEYS"]
    assert stat.S_IMODE((tmp_path / "secrets.env").stat().st_mode) == 0o600
    assert _load().load_or_create_secrets(tmp_path) == values  # generated once


def test_an_older_file_gets_the_audit_keys_added(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in AUDIT_KEYS:
        monkeypatch.delenv(name, raising=False)
    old = "SECRET_KEY=abc\nPROPORTRAIT_MASTER_KEYS=k1:" + base64.b64encode(b"m" * 32).decode() + "\n"
    (tmp_path / "secrets.env").write_text(old)
    (tmp_path / "secrets.env").chmod(0o600)

    values = _load().load_or_create_secrets(tmp_path)

    assert values["SECRET_KEY"] == "abc"
    assert (tmp_path / "secrets.env").read_text().startswith(old)
    assert all(name in values for name in AUDIT_KEYS)
