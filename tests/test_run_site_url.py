"""`make run` points e-mail links at the address it serves, whatever HOST and PORT say."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest

from tests.support import REPO


def run_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_embedded", REPO / "scripts" / "run_embedded.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", "8000", "http://127.0.0.1:8000"),
        ("127.0.0.1", "8765", "http://127.0.0.1:8765"),
        ("0.0.0.0", "9000", "http://localhost:9000"),  # noqa: S104 (a value under test)
        ("::1", "8001", "http://[::1]:8001"),
        ("portraits.local", "80", "http://portraits.local:80"),
    ],
)
def test_it_derives_the_site_url_from_host_and_port(host: str, port: str, expected: str) -> None:
    assert run_script().site_url(host, port) == expected


def test_it_uses_the_derived_url_unless_site_url_is_set() -> None:
    source = (REPO / "scripts" / "run_embedded.py").read_text()
    # setdefault: an explicit SITE_URL (a public address behind a proxy) still wins.
    assert 'env.setdefault("SITE_URL", site_url(host, port))' in source
