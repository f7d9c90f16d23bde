"""Delete now and Withdraw ask first, in plain HTML: a link to a confirmation page, then a POST."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from portraits.models import JobStatus, PortraitJob
from tests import photos

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("action", "button"), [("delete", "Yes, delete now"), ("withdraw", "Yes, withdraw my consent")]
)
def test_it_asks_before_erasing(client: Client, done_job: PortraitJob, action: str, button: str) -> None:
    results = client.get(f"/jobs/{done_job.id}/").content.decode()
    # The results page offers a link, not a one-click form.
    assert f'href="/jobs/{done_job.id}/{action}/"' in results
    assert f'action="/jobs/{done_job.id}/{action}/"' not in results
    page = client.get(f"/jobs/{done_job.id}/{action}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert button in html and "cannot be undone" in html
    assert 'method="post"' in html and f'href="/jobs/{done_job.id}/"' in html
    done_job.refresh_from_db()
    assert done_job.status == JobStatus.DONE and done_job.portraits.count() == 4


def test_strangers_get_no_confirmation_page(done_job: PortraitJob) -> None:
    assert Client().get(f"/jobs/{done_job.id}/delete/").status_code == 404
    assert Client().get(f"/jobs/{done_job.id}/withdraw/").status_code == 404


def test_a_deleted_job_offers_nothing_more_to_delete_or_keep(client: Client, done_job: PortraitJob) -> None:
    client.post(f"/jobs/{done_job.id}/delete/")
    html = client.get(f"/jobs/{done_job.id}/").content.decode()
    assert "These portraits have been deleted." in html
    assert 'id="keep-longer"' not in html and 'id="delete-now"' not in html
    assert "already been deleted" in client.get(f"/jobs/{done_job.id}/delete/").content.decode()


def test_a_failed_job_does_not_offer_to_keep_its_portraits(
    client: Client, consent_fields: Any, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/try/", {**consent_fields, "photo": SimpleUploadedFile("x.png", photos.no_face_png())})
    job = PortraitJob.objects.get()
    assert job.status == JobStatus.FAILED
    html = client.get(f"/jobs/{job.id}/").content.decode()
    assert "Keep them longer" not in html
