from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from compliance.models import ConsentKind
from compliance.services import current_document
from tests import photos


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def selfie() -> bytes:
    return photos.face_jpeg()


@pytest.fixture
def consent_fields(db: Any) -> dict[str, Any]:
    document = current_document(ConsentKind.BIOMETRIC)
    return {
        "consent": "true",
        "consent_version": document.version,
        "signature": "Jane Q. Example",
        "style": "corporate-grey",
    }


@pytest.fixture
def done_job(
    client: Any,
    selfie: bytes,
    consent_fields: Any,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> Any:
    """A job uploaded through the web page by `client` (its session holds the job), finished."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from portraits.models import PortraitJob

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/try/", {**consent_fields, "photo": SimpleUploadedFile(photos.UPLOAD_FILENAME, selfie)})
    job = PortraitJob.objects.get()
    assert job.status == "done"
    return job
