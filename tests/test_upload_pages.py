"""The anonymous flow through the web pages: upload, consent, progress, results, delete, withdraw."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from compliance.models import ConsentAction, ConsentRecord
from portraits.models import DataKey, JobStatus, PortraitJob
from tests import photos

pytestmark = pytest.mark.django_db


def post_upload(client: Client, photo: bytes | None, fields: dict[str, Any]) -> Any:
    data = dict(fields)
    if photo is not None:
        data["photo"] = SimpleUploadedFile(photos.UPLOAD_FILENAME, photo)
    return client.post("/try/", data)


def test_the_upload_page_shows_the_current_notice_and_an_unticked_box(
    client: Client, consent_fields: Any
) -> None:
    response = client.get("/try/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="consent"' in html and "checked" not in html.split('id="id_consent"')[1].split(">")[0]
    assert f'name="consent_version" value="{consent_fields["consent_version"]}"' in html
    assert "biometric" in html.lower() and "destroyed" in html
    assert 'for="id_signature"' in html and 'for="id_photo"' in html
    assert "default-src 'self'" in response["Content-Security-Policy"]


def test_a_valid_upload_leads_to_the_job_page_with_portraits(
    client: Client,
    selfie: bytes,
    consent_fields: Any,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = post_upload(client, selfie, consent_fields)
    assert response.status_code == 302
    job = PortraitJob.objects.get()
    assert response["Location"] == f"/jobs/{job.id}/"
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    # Previews and downloads are authorised by this browser's session, so they never expire mid-visit.
    for number in range(1, 5):
        assert f"/jobs/{job.id}/portraits/{number}/preview/" in html
        assert f"/jobs/{job.id}/portraits/{number}/full/" in html
    assert "Your original photo was destroyed at" in html
    assert "Delete now" in html and "Withdraw my consent" in html
    # Another browser cannot see it.
    assert Client().get(f"/jobs/{job.id}/").status_code == 404


@pytest.mark.parametrize(
    ("photo", "change", "code"),
    [
        (photos.face_jpeg(), {"consent": ""}, "consent_required"),
        (photos.face_jpeg(), {"signature": ""}, "consent_required"),
        (b"GIF89a not really", {}, "unsupported_format"),
        (photos.bomb_png_header(), {}, "image_too_large"),
        (None, {}, "invalid_request"),
    ],
    ids=["no-consent", "no-signature", "not-an-image", "bomb", "no-photo"],
)
def test_a_rejected_upload_explains_itself_and_stores_nothing(
    client: Client, consent_fields: Any, photo: bytes | None, change: dict[str, Any], code: str
) -> None:
    response = post_upload(client, photo, {**consent_fields, **change})
    assert response.status_code == 400
    html = response.content.decode()
    assert f'data-error-code="{code}"' in html
    assert 'role="alert"' in html and "Nothing was stored" in html
    assert (
        PortraitJob.objects.count() == 0
        and DataKey.objects.count() == 0
        and ConsentRecord.objects.count() == 0
    )


def test_delete_now_erases_everything_and_shows_a_receipt(
    client: Client,
    selfie: bytes,
    consent_fields: Any,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        post_upload(client, selfie, consent_fields)
    job = PortraitJob.objects.get()
    response = client.post(f"/jobs/{job.id}/delete/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Everything is deleted" in html and str(job.id) in html and "Audit record hash" in html
    job.refresh_from_db()
    assert job.status == JobStatus.DELETED and job.portraits.count() == 0
    assert not DataKey.objects.filter(destroyed_at__isnull=True).exists()
    assert Client().post(f"/jobs/{job.id}/delete/").status_code == 404


def test_withdrawing_consent_is_one_click_and_erases_the_portraits(
    client: Client,
    selfie: bytes,
    consent_fields: Any,
    eager_celery: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        post_upload(client, selfie, consent_fields)
    job = PortraitJob.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/jobs/{job.id}/withdraw/")
    assert response.status_code == 200
    assert "Consent withdrawn" in response.content.decode()
    job.refresh_from_db()
    assert job.status == JobStatus.DELETED and job.portraits.count() == 0
    given = ConsentRecord.objects.get(job_id=job.id, action=ConsentAction.GIVEN)
    assert ConsentRecord.objects.filter(action=ConsentAction.WITHDRAWN, withdraws=given).exists()


def test_the_landing_page_shows_examples_made_by_the_pipeline(client: Client) -> None:
    html = client.get("/").content.decode()
    for slug in ["corporate-grey", "studio-white", "warm-office", "creative-dark"]:
        assert f"proportrait/examples/{slug}" in html


def test_missing_pages_get_a_readable_error(client: Client) -> None:
    response = client.get("/jobs/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()
