"""Shared steps for the tests of the results e-mail inside the data-rights path.

Everything goes through HTTP as a person would: upload on the web, ask for the results link by
e-mail, then make a data-rights request through the public API and verify it with the code
that was mailed.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from typing import Any

from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase

from compliance.models import DataSubjectRequest
from compliance.tests.conftest import pdf_text
from portraits.models import PortraitJob
from tests import photos

#: Look-alikes of HOLDER that the request form accepts: each is another mailbox, so none may
#: reach HOLDER's results e-mail. (Spellings the form refuses are tested in
#: compliance/tests/test_dsar_look_alike_addresses_reach_no_account.py.)
HOLDER = "kim.holder@gmail.com"
LOOK_ALIKES = [
    ("kim.holder@gma\u0131l.com", "dotless i (U+0131) in the domain: PostgreSQL UPPER() folds it to I"),
    ("k\u0131m.holder@gmail.com", "dotless i in the local part"),
    ("k\u0130m.holder@gmail.com", "capital I with dot (U+0130): lowercases to i + combining dot"),
    ("kim.holder@gm\u0430il.com", "Cyrillic a (U+0430) in the domain"),
    ("kim.holder@gmail.c\u03bfm", "Greek omicron (U+03BF) in the top-level domain"),
    ("kim.holder@gmail.com.evil.example", "the real domain as a prefix of another"),
]
#: Spellings of the same mailbox: they reach the address (IDNA maps the domain, case folds).
SAME_MAILBOX = ["KIM.Holder@GMAIL.COM", "kim.holder@\uff47\uff4d\uff41\uff49\uff4c.com"]


@dataclass
class WebJob:
    job: PortraitJob
    reference: str
    browser: Client
    link_path: str


def finished_web_job(consent_fields: dict[str, Any], address: str) -> WebJob:
    """Upload on the web (a worker runs in-process), then ask for the results link by e-mail."""
    browser = Client()
    with TestCase.captureOnCommitCallbacks(execute=True):
        uploaded = browser.post(
            "/try/",
            {**consent_fields, "photo": SimpleUploadedFile(photos.UPLOAD_FILENAME, photos.face_jpeg())},
        )
    assert uploaded.status_code == 302, uploaded.content
    job = PortraitJob.objects.order_by("-created_at").first()
    assert job is not None and job.status == "done", job and job.error_message
    page = browser.get(f"/jobs/{job.id}/").content.decode()
    found = re.search(r'<code id="job-reference">([^<]+)</code>', page)
    assert found is not None, "the results page shows no reference"
    with TestCase.captureOnCommitCallbacks(execute=True):
        sent = browser.post(f"/jobs/{job.id}/email/", {"email": address})
    assert sent.status_code == 302, sent.content
    link = re.search(r"http://[^/\s]+(/results/\S+/)", str(mail.outbox[-1].body))
    assert link is not None and mail.outbox[-1].to == [address]
    return WebJob(job=job, reference=found.group(1), browser=browser, link_path=link.group(1))


def ask(api_client: Any, email: str, request_type: str, **fields: Any) -> DataSubjectRequest:
    """A data-rights request through the public API, verified with the mailed code."""
    before = len(mail.outbox)
    # Each request's on-commit callbacks (mail, the fulfilment task) run, as after a real commit.
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api_client.post(
            "/api/v1/dsar/", {"email": email, "request_type": request_type, **fields}, format="json"
        )
    assert response.status_code == 202, response.content
    assert len(mail.outbox) > before and mail.outbox[-1].to == [email]
    code = re.search(r"\b(\d{6})\b", str(mail.outbox[-1].body))
    assert code is not None
    with TestCase.captureOnCommitCallbacks(execute=True):
        verified = api_client.post(
            f"/api/v1/dsar/{response.json()['id']}/verify/", {"code": code.group(1)}, format="json"
        )
    assert verified.status_code == 200, verified.content
    return DataSubjectRequest.objects.get(pk=response.json()["id"])


def last_mail_to(address: str) -> Any:
    return next(message for message in reversed(mail.outbox) if message.to == [address])


def html_part(message: Any) -> str:
    return next(content for content, mime in message.alternatives if mime == "text/html")


def download_export(message: Any) -> tuple[dict[str, Any], zipfile.ZipFile]:
    """The data.json and the archive of the export the completion mail links to."""
    found = re.search(r"http://[^/\s]+(/privacy/exports/\S+/)", message.body)
    assert found is not None, message.body
    response = Client().get(found.group(1))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    return json.loads(archive.read("data.json")), archive


def certificate_text(message: Any) -> str:
    found = re.search(r"http://[^/\s]+(/privacy/certificates/\S+/)", message.body)
    assert found is not None, message.body
    response = Client().get(found.group(1))
    assert response.status_code == 200
    return pdf_text(response.content)
