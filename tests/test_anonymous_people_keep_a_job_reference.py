"""People who used the web flow without an account can reach their data with a reference they keep.

Found: the web results page never showed the job token, yet the data-rights form and the claim
page asked for "the job token shown with your portraits", so a person who used the web flow
could not reach their data, and their consent record (typed name, truncated IP, browser) was
kept for years out of their reach. The reference is now shown on the results page and on every
receipt; it is the job's bearer secret (only its hash is stored), not the job id, and the
data-rights form and the claim page accept it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase

from compliance.models import ConsentRecord, DataSubjectRequest, DsarStatus
from portraits.models import PortraitJob
from portraits.services import hash_token
from tests import photos

pytestmark = pytest.mark.django_db


def upload_on_the_web(client: Client, consent_fields: dict[str, Any]) -> tuple[PortraitJob, str]:
    with TestCase.captureOnCommitCallbacks(execute=False):
        response = client.post(
            "/try/",
            {**consent_fields, "photo": SimpleUploadedFile(photos.UPLOAD_FILENAME, photos.face_jpeg())},
        )
    assert response.status_code == 302, response.content
    job = PortraitJob.objects.get()
    page = client.get(response["Location"]).content.decode()
    found = re.search(r'<code id="job-reference">([^<]+)</code>', page)
    assert found is not None, "the results page shows no reference"
    return job, found.group(1)


def test_the_results_page_shows_a_reference_as_strong_as_the_token(
    client: Client, consent_fields: Any
) -> None:
    job, reference = upload_on_the_web(client, consent_fields)

    assert hash_token(reference) == job.token_hash  # the job's bearer secret...
    assert str(job.id) not in reference and len(reference) >= 40  # ...not its id
    cookie = client.cookies[f"job-ref-{job.id}"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == f"/jobs/{job.id}/"
    page = client.get(f"/jobs/{job.id}/").content.decode()
    assert 'data-copy-target="job-reference"' in page and "proportrait/copy.js" in page


def test_another_browser_or_a_forged_cookie_sees_no_reference(client: Client, consent_fields: Any) -> None:
    job, reference = upload_on_the_web(client, consent_fields)
    other = Client()
    other.cookies[f"job-ref-{job.id}"] = "forged-value-that-is-not-the-token"
    client.cookies[f"job-ref-{job.id}"] = "forged-value-that-is-not-the-token"

    assert other.get(f"/jobs/{job.id}/").status_code == 404
    page = client.get(f"/jobs/{job.id}/").content.decode()
    assert 'id="job-reference"' not in page and reference not in page


def test_the_deletion_receipt_shows_the_reference(client: Client, consent_fields: Any) -> None:
    job, reference = upload_on_the_web(client, consent_fields)

    receipt = client.post(f"/jobs/{job.id}/delete/").content.decode()

    assert f'<code id="job-reference">{reference}</code>' in receipt


def test_the_data_rights_form_takes_the_reference_and_erases_the_consent_record(
    client: Client, consent_fields: Any, eager_celery: None
) -> None:
    job, reference = upload_on_the_web(client, consent_fields)
    client.post(f"/jobs/{job.id}/delete/")
    assert ConsentRecord.objects.filter(job_id=job.id, signature_name="Jane Q. Example").exists()
    form = Client().get("/privacy/requests/").content.decode()
    assert "Private job reference" in form and "results page" in form
    web = Client()

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = web.post(
            "/privacy/requests/",
            {
                "email": "jane@example.com",
                "request_type": "erasure",
                "job_reference": reference,
                "details": "",
            },
        )
    code = re.search(r"\b(\d{6})\b", str(mail.outbox[-1].body))
    assert response.status_code == 302 and code is not None
    with TestCase.captureOnCommitCallbacks(execute=True):
        web.post(response["Location"], {"code": code.group(1)})

    request = DataSubjectRequest.objects.get()
    assert request.status == DsarStatus.COMPLETED
    assert not ConsentRecord.objects.filter(job_id=job.id).exists()


def test_the_claim_page_takes_the_reference_alone(client: Client, consent_fields: Any) -> None:
    from accounts.tests.conftest import logged_in_client, make_user

    job, reference = upload_on_the_web(client, consent_fields)
    owner = make_user("claimer@example.com")
    page = logged_in_client(owner).get("/accounts/claim/").content.decode()
    assert "Private job reference" in page

    response = logged_in_client(owner).post("/accounts/claim/", {"action": "token", "token": reference})

    assert response.status_code == 302
    assert PortraitJob.objects.get(pk=job.pk).owner_id == owner.pk
