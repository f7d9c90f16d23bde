"""A well-formed file with corrupt image data passes the web tier (which decodes nothing) and
fails its job in the worker with `corrupt_image`; a decode over budget fails with
`image_too_complex`. Either way the original is destroyed."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from gpu_worker.pipeline import get_pipeline
from gpu_worker.schemas import Backend
from gpu_worker.tests import crafted
from portraits import crypto, services
from portraits.models import PortraitJob
from tests import photos
from tests.test_job_api import run_job

pytestmark = pytest.mark.django_db


def _assert_failed_and_destroyed(job: dict[str, Any], code: str, settings: Any) -> None:
    from pathlib import Path

    assert job["status"] == "failed"
    assert job["error"]["code"] == code
    assert job["error"]["message"]
    assert job["original_deleted_at"] is not None
    assert job["portraits"] == []
    storage_dir = Path(settings.STORAGES["private"]["OPTIONS"]["location"])
    assert not [path for path in storage_dir.rglob("*") if "originals" in str(path) and path.is_file()]
    with pytest.raises(crypto.KeyDestroyed):
        services.read_original(PortraitJob.objects.get(id=job["id"]))


def test_corrupt_data_inside_a_valid_structure_fails_the_job(
    api_client: Any,
    consent_fields: Any,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    _created, job = run_job(
        api_client, crafted.corrupt_image_data(), consent_fields, django_capture_on_commit_callbacks
    )
    _assert_failed_and_destroyed(job, "corrupt_image", settings)


def test_a_decode_over_its_budget_fails_the_job(
    api_client: Any,
    consent_fields: Any,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
    monkeypatch: Any,
) -> None:
    pipeline = get_pipeline(Backend.STUDIO)
    monkeypatch.setattr(pipeline, "limits", replace(pipeline.limits, decode_wall_seconds=0.001))
    _created, job = run_job(
        api_client, photos.face_jpeg(), consent_fields, django_capture_on_commit_callbacks
    )
    _assert_failed_and_destroyed(job, "image_too_complex", settings)
