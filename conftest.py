"""Fixtures every test directory shares: isolated cache and storage, and eager Celery on request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    # Rate-limit and lock-out counters live in the cache; tests must not see each other's.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def storage_dir(settings: Any, tmp_path: Path) -> Iterator[Path]:
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
    # StorageHandler's private caches, which the stubs leave out.
    storages._storages = {}  # type: ignore[attr-defined]
    storages._backends = None  # type: ignore[attr-defined]
    yield location
    storages._storages = {}  # type: ignore[attr-defined]
    storages._backends = None  # type: ignore[attr-defined]


@pytest.fixture(autouse=True, scope="session")
def _celery_is_not_eager_by_default() -> None:
    from proportrait.celery import app as celery_app

    assert not celery_app.conf.task_always_eager, "CELERY_TASK_ALWAYS_EAGER must not be set for tests"


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Run tasks in-process (unit tests); integration tests use a real worker instead."""
    from proportrait.celery import app as celery_app

    # Only the Celery app's own config: Celery reads Django settings once, lazily, so an
    # overridden setting could become the whole session's value and make "real worker" tests
    # quietly run in-process.
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous
