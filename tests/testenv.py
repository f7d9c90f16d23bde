"""Loaded by pytest (`-p tests.testenv`) before Django: the test run's environment.

Keys here are test-only values. A run may point at the production-like stack by setting
PROPORTRAIT_TEST_STACK=production (see tests/README.md and .ci/run).
"""

from __future__ import annotations

import base64
import os
import tempfile

_var = tempfile.mkdtemp(prefix="proportrait-test-")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-0123456789")
os.environ.setdefault(
    "PROPORTRAIT_MASTER_KEYS",
    "test1:" + base64.b64encode(b"m" * 32).decode() + ",test0:" + base64.b64encode(b"o" * 32).decode(),
)
os.environ.setdefault("PROPORTRAIT_AUDIT_HMAC_KEYS", "audit1:" + base64.b64encode(b"h" * 32).decode())
os.environ.setdefault("PROPORTRAIT_AUDIT_SIGNING_KEYS", "sign1:" + base64.b64encode(b"s" * 32).decode())
os.environ.setdefault("PROPORTRAIT_VAR_DIR", _var)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proportrait.settings")

if os.environ.get("PROPORTRAIT_TEST_STACK") == "production":
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/1")
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/2")
else:
    # A file database (not :memory:) so that a real worker process sees the test's data.
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{_var}/db.sqlite3")
    os.environ.setdefault("PROPORTRAIT_TEST_DATABASE_NAME", f"{_var}/test-db.sqlite3")
