"""Export download links hold a random lookup token, never key material (URLs reach access
logs); the file's key is kept wrapped on our side and shredded with the file on expiry."""

from __future__ import annotations

import base64
import io
import re
import zipfile
from typing import Any

import pytest
import time_machine
from django.core import mail

from compliance import services
from compliance.models import DataExport, DataSubjectRequest
from compliance.services.housekeeping import run_daily_housekeeping

pytestmark = pytest.mark.django_db

EMAIL = "jane@example.com"


def job_token() -> str:
    """An anonymous job whose holder asks: the request then finds data (else it says it found none)."""
    from django.test import TestCase

    from compliance.tests.conftest import consent_act
    from portraits.services import ClientInfo, create_job
    from tests.photos import face_jpeg

    with TestCase.captureOnCommitCallbacks(execute=False):
        created = create_job(
            photo=face_jpeg(),
            consent=consent_act(),
            client=ClientInfo(),
            style_slug="corporate-grey",
            check_rate_limit=False,
        )
    return created.token


def request_access(api_client: Any) -> tuple[DataSubjectRequest, str]:
    response = api_client.post(
        "/api/v1/dsar/",
        {"email": EMAIL, "request_type": "access", "job_reference": job_token()},
        format="json",
    )
    request_id = response.json()["id"]
    code = re.search(r"\b(\d{6})\b", str(mail.outbox[-1].body))
    assert code is not None
    api_client.post(f"/api/v1/dsar/{request_id}/verify/", {"code": code.group(1)}, format="json")
    assert mail.outbox[-1].to == [EMAIL]
    link = re.search(r"http://\S+/privacy/exports/\S+/", str(mail.outbox[-1].body))
    assert link is not None
    return DataSubjectRequest.objects.get(pk=request_id), link.group(0).removeprefix("http://127.0.0.1:8000")


def key_spellings(raw_key: bytes) -> list[str]:
    return [
        base64.urlsafe_b64encode(raw_key).decode().rstrip("="),
        base64.b64encode(raw_key).decode().rstrip("="),
        raw_key.hex(),
    ]


def test_the_link_holds_no_key_and_downloads_before_expiry(
    api_client: Any, client: Any, eager_celery: None, storage_dir: Any
) -> None:
    from portraits.crypto import unwrap_data_key

    with time_machine.travel("2026-05-01 09:00Z", tick=False):
        request, url = request_access(api_client)
        export = DataExport.objects.select_related("data_key").get(request=request)
        assert export.data_key is not None
        raw_key = unwrap_data_key(export.data_key)
        token = url.rstrip("/").rsplit("/", 1)[1]

        assert url == f"/privacy/exports/{token}/" and str(export.id) not in url
        assert not any(spelling in url for spelling in key_spellings(raw_key))
        assert token not in str(list(DataExport.objects.values()))  # only its hash is kept
        assert export.data_key.wrapped_key and bytes(export.data_key.wrapped_key) != raw_key

    with time_machine.travel("2026-05-03 09:00Z", tick=False):
        response = client.get(url)
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    assert "data.json" in zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert client.get(f"/privacy/exports/{token[:-2]}xx/").status_code == 404


def test_an_expired_link_shreds_the_file_and_key_when_followed(
    api_client: Any, client: Any, eager_celery: None, storage_dir: Any
) -> None:
    with time_machine.travel("2026-05-01 09:00Z", tick=False):
        request, url = request_access(api_client)
    export = DataExport.objects.select_related("data_key").get(request=request)
    assert (storage_dir / export.storage_key).exists()

    with time_machine.travel("2026-05-04 09:01Z", tick=False):
        first, again = client.get(url), client.get(url)

    assert first.status_code == 410 and again.status_code == 410
    assert "expired" in first.content.decode()
    assert not (storage_dir / export.storage_key).exists()
    export.refresh_from_db()
    assert export.data_key is not None
    export.data_key.refresh_from_db()
    assert export.deleted_at is not None
    assert export.data_key.wrapped_key is None and export.data_key.destroyed_at is not None


def test_housekeeping_shreds_expired_exports_nobody_opened(storage_dir: Any) -> None:
    with time_machine.travel("2026-05-01 09:00Z", tick=False):
        export, _ = services.store_export(b"PK fake zip")
    with time_machine.travel("2026-05-04 09:01Z", tick=False):
        counts = run_daily_housekeeping()

    assert counts["exports_deleted"] == 1
    export.refresh_from_db()
    assert export.deleted_at is not None and not (storage_dir / export.storage_key).exists()
    assert export.data_key is not None and export.data_key.wrapped_key is None


def test_erasing_the_requester_shreds_their_export(
    api_client: Any, client: Any, eager_celery: None, storage_dir: Any
) -> None:
    request, url = request_access(api_client)
    export = DataExport.objects.get(request=request)

    services.erase_subject(services.Subject(email=EMAIL), reason="dsar_erasure", actor="test")

    export.refresh_from_db()
    assert export.data_key is not None and export.data_key.wrapped_key is None
    assert not (storage_dir / export.storage_key).exists()
    assert client.get(url).status_code == 410
