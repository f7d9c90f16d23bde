from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from compliance.models import ConsentKind
from compliance.services import current_document
from proportrait.celery import app as celery_app
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
def eager_celery() -> Iterator[None]:
    """Run tasks in-process (unit tests); integration tests use a real worker instead."""
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _private_storage(settings: Any, tmp_path: Any) -> Iterator[None]:
    """Each test gets its own storage folder, so scans see only that test's objects."""
    from django.core.files.storage import storages

    location = tmp_path / "storage"
    location.mkdir()
    options = {"location": str(location), "base_url": None}
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": options},
        "private": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": options},
    }
    storages._storages = {}
    storages._backends = None
    yield
    storages._storages = {}
    storages._backends = None
