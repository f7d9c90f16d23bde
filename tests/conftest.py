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
