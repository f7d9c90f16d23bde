"""The privacy notice's (and the DPA's) statements about the photo's first minutes are true of the
running system: the upload page carries the in-browser crop, and while a job runs the original's
key is in no database row and lives in the volatile store for at most the minutes stated."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portraits import crypto
from portraits.models import DataKey, PortraitJob
from tests import photos

pytestmark = pytest.mark.django_db


def test_the_notice_states_the_browser_crop_and_the_upload_page_does_it(client: Any) -> None:
    notice = client.get("/privacy/").content.decode()
    assert "your browser finds your face and cuts the photo down to your head and shoulders" in notice
    assert "This is all we receive" in notice
    upload = client.get("/try/").content.decode()
    assert 'id="crop-panel"' in upload and "This is all we receive" in upload
    assert re.search(r'<script type="module" src="/static/proportrait/upload-crop\.js"', upload)
    # Hidden until the script runs: without JavaScript the form is the server's path.
    assert re.search(r'<section id="crop-panel"[^>]* hidden', upload)


def test_the_notice_states_the_key_lifetime_that_holds_while_a_job_runs(
    client: Any, api_client: Any, consent_fields: dict[str, Any], settings: Any
) -> None:
    started = time.time()
    response = api_client.post(
        "/api/v1/jobs/",
        {**consent_fields, "photo": SimpleUploadedFile(photos.UPLOAD_FILENAME, photos.face_jpeg())},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    notice = client.get("/privacy/").content.decode()
    stated = re.search(r"never in our database or its backups, and for at most <strong>(\d+) minute", notice)
    assert stated, "the notice states no key lifetime"

    job = PortraitJob.objects.get(id=response.json()["id"])
    key_row = DataKey.objects.get(pk=job.original_key_id)
    assert key_row.wrapped_key is None  # no key material in the database
    _, _, expires_at = crypto._get_volatile(key_row)
    assert expires_at <= started + int(stated.group(1)) * 60 + 5
    assert int(stated.group(1)) == settings.PROPORTRAIT_ORIGINAL_DEADMAN_MINUTES


def test_the_dpa_states_the_same_measures(
    api_client: Any, consent_fields: dict[str, Any], client: Any
) -> None:
    from accounts.models import Organisation
    from compliance import pdf
    from compliance.services import dpa_context
    from compliance.tests.conftest import pdf_text

    text = pdf_text(
        pdf.render_dpa(dpa_context(Organisation.objects.create(name="Acme", slug="acme", seats=3)))
    )
    assert (
        "An original photo's data key is held only in volatile memory, never in the database or its "
        "backups, and only while its job runs." in text
    )
    assert "it crops the photo to head and shoulders and removes its metadata before upload" in text
    response = api_client.post(
        "/api/v1/jobs/",
        {**consent_fields, "photo": SimpleUploadedFile(photos.UPLOAD_FILENAME, photos.face_jpeg())},
        format="multipart",
    )
    job = PortraitJob.objects.get(id=response.json()["id"])
    assert DataKey.objects.get(pk=job.original_key_id).wrapped_key is None
    assert 'id="crop-panel"' in client.get("/try/").content.decode()
