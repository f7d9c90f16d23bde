"""Settings come from the environment only, refuse to start without keys, and pass Django's
deployment checks in production form."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

REPO = Path(__file__).resolve().parent.parent


def manage(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    clean = {
        key: value for key, value in os.environ.items() if not key.startswith(("PROPORTRAIT_", "SECRET_KEY"))
    }
    clean.pop("DATABASE_URL", None)
    clean.update({"PROPORTRAIT_VAR_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=clean, capture_output=True, text=True, timeout=120
    )


PRODUCTION = {
    "SECRET_KEY": "a-production-like-secret-key-" + "x" * 40,
    "PROPORTRAIT_MASTER_KEYS": "prod1:" + base64.b64encode(os.urandom(32)).decode(),
    "PROPORTRAIT_AUDIT_HMAC_KEYS": "audit1:" + base64.b64encode(os.urandom(32)).decode(),
    "PROPORTRAIT_AUDIT_SIGNING_KEYS": "sign1:" + base64.b64encode(os.urandom(32)).decode(),
    "PROPORTRAIT_HTTPS": "true",
    "ALLOWED_HOSTS": "proportrait.example",
}


def test_production_settings_pass_the_deployment_checks(tmp_path: Path) -> None:
    result = manage(["check", "--deploy", "--fail-level", "WARNING"], PRODUCTION, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "PROPORTRAIT_MASTER_KEYS"])
def test_it_refuses_to_start_without_a_key(tmp_path: Path, missing: str) -> None:
    env = {key: value for key, value in PRODUCTION.items() if key != missing}
    result = manage(["check"], env, tmp_path)
    assert result.returncode != 0
    assert f"{missing} (or {missing}_FILE) must be set" in result.stderr


@pytest.mark.parametrize("missing", ["PROPORTRAIT_AUDIT_HMAC_KEYS", "PROPORTRAIT_AUDIT_SIGNING_KEYS"])
def test_it_refuses_to_start_without_the_audit_keys(tmp_path: Path, missing: str) -> None:
    env = {key: value for key, value in PRODUCTION.items() if key != missing}
    result = manage(["check"], env, tmp_path)
    assert result.returncode != 0
    assert "PROPORTRAIT_AUDIT_HMAC_KEYS and PROPORTRAIT_AUDIT_SIGNING_KEYS" in result.stderr


def test_secrets_can_come_from_files(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(PRODUCTION["SECRET_KEY"] + "\n")
    env = {**PRODUCTION, "SECRET_KEY_FILE": str(secret_file)}
    del env["SECRET_KEY"]
    assert manage(["check"], env, tmp_path).returncode == 0


def test_debug_is_off_unless_set() -> None:
    from django.conf import settings

    assert os.environ.get("DEBUG") in (None, "") and settings.DEBUG is False


@pytest.mark.django_db
def test_uploads_never_touch_the_disk(
    api_client: Any, consent_fields: Any, monkeypatch: Any, settings: Any
) -> None:
    """A photo larger than Django's default in-memory limit still stays in memory."""
    from django.core.files import uploadedfile

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an upload was spooled to a temporary file")

    monkeypatch.setattr(uploadedfile.TemporaryUploadedFile, "__init__", refuse)
    from tests import photos

    big = photos.face_jpeg(size=3200, quality=100)
    assert len(big) > 2_621_440  # Django's default FILE_UPLOAD_MAX_MEMORY_SIZE
    response = api_client.post(
        "/api/v1/jobs/", {**consent_fields, "photo": SimpleUploadedFile("big.jpg", big)}, format="multipart"
    )
    assert response.status_code == 201, response.content
