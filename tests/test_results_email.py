"""'E-mail me a link to my results': the link works anywhere; the address lives as long as the results."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from compliance.models import AuditEvent
from portraits import services
from portraits.models import PortraitJob, ResultsEmail
from tests import photos

pytestmark = pytest.mark.django_db


def ask_for_link(client: Client, job: PortraitJob, address: str, capture: Any) -> Any:
    with capture(execute=True):
        return client.post(f"/jobs/{job.id}/email/", {"email": address})


def test_it_says_how_long_the_address_is_kept(client: Client, done_job: PortraitJob) -> None:
    html = client.get(f"/jobs/{done_job.id}/").content.decode()
    assert "E-mail me a link to my results" in html
    assert "We keep your address only until your portraits are deleted" in html
    assert done_job.expires_at.strftime("%-d %B %Y") in html


def test_it_mails_a_link_that_opens_the_results_in_another_browser(
    client: Client, done_job: PortraitJob, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    response = ask_for_link(client, done_job, "jane@example.com", django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["jane@example.com"]
    html_part = message.alternatives[0][0]  # type: ignore[attr-defined]
    link = re.search(r"(http\S+/results/\S+/)", str(message.body))
    assert link is not None and link.group(1) in str(html_part)
    assert link.group(1).startswith(settings.SITE_URL)
    assert done_job.expires_at.strftime("%-d %B %Y") in str(message.body)
    # It says how to have the address erased sooner, and what that does.
    rights_url = f"{settings.SITE_URL}/privacy/requests/"
    assert rights_url in str(message.body) and rights_url in str(html_part)
    assert "this link stops working" in str(message.body)
    stored = ResultsEmail.objects.get(job=done_job)
    assert stored.address == "jane@example.com" and stored.sends == 1
    # The page now says where it went; the audit log never holds the address.
    page = client.get(f"/jobs/{done_job.id}/").content.decode()
    assert "We sent a link to <strong>jane@example.com</strong>" in page
    assert not any("jane@example.com" in str(event.data) for event in AuditEvent.objects.all())

    other = Client()
    opened = other.get(link.group(1).removeprefix(settings.SITE_URL))
    assert opened.status_code == 302 and opened["Location"] == f"/jobs/{done_job.id}/"
    assert other.get(f"/jobs/{done_job.id}/portraits/1/full/").status_code == 200


def test_it_rejects_a_bad_address_and_stores_nothing(
    client: Client, done_job: PortraitJob, django_capture_on_commit_callbacks: Any
) -> None:
    response = ask_for_link(client, done_job, "not-an-address", django_capture_on_commit_callbacks)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_email_error"' in html and 'aria-invalid="true"' in html
    assert not ResultsEmail.objects.exists() and not mail.outbox


def test_it_refuses_more_than_three_sends(
    client: Client, done_job: PortraitJob, django_capture_on_commit_callbacks: Any
) -> None:
    for _ in range(3):
        sent = ask_for_link(client, done_job, "jane@example.com", django_capture_on_commit_callbacks)
        assert sent.status_code == 302
    response = ask_for_link(client, done_job, "someone@example.com", django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert "already sent this link 3 times" in response.content.decode()
    assert len(mail.outbox) == 3
    assert ResultsEmail.objects.get().address == "jane@example.com"


def test_it_refuses_strangers(done_job: PortraitJob) -> None:
    assert Client().post(f"/jobs/{done_job.id}/email/", {"email": "x@example.com"}).status_code == 404
    assert not ResultsEmail.objects.exists()


@pytest.mark.parametrize("how", ["delete_now", "retention_purge"])
def test_the_address_and_the_link_die_with_the_results(
    client: Client, done_job: PortraitJob, django_capture_on_commit_callbacks: Any, settings: Any, how: str
) -> None:
    ask_for_link(client, done_job, "jane@example.com", django_capture_on_commit_callbacks)
    link = re.search(r"(http\S+/results/\S+/)", str(mail.outbox[0].body))
    assert link is not None
    if how == "delete_now":
        client.post(f"/jobs/{done_job.id}/delete/")
    else:
        services.purge_expired_results(now=done_job.expires_at + timedelta(seconds=1))
    assert not ResultsEmail.objects.exists()
    response = Client().get(link.group(1).removeprefix(settings.SITE_URL))
    assert response.status_code == 410
    assert "These portraits are no longer available" in response.content.decode()


def test_the_link_stops_working_when_the_results_expire(
    client: Client, done_job: PortraitJob, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    ask_for_link(client, done_job, "jane@example.com", django_capture_on_commit_callbacks)
    link = re.search(r"(http\S+/results/\S+/)", str(mail.outbox[0].body))
    assert link is not None
    with time_machine.travel(done_job.expires_at + timedelta(minutes=1)):
        assert Client().get(link.group(1).removeprefix(settings.SITE_URL)).status_code == 410
    assert Client().get("/results/forged/").status_code == 410
    assert timezone.now() < done_job.expires_at


def test_it_refuses_while_the_portraits_are_not_ready(
    client: Client, selfie: bytes, consent_fields: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # No worker runs here: the job stays queued.
    client.post("/try/", {**consent_fields, "photo": SimpleUploadedFile(photos.UPLOAD_FILENAME, selfie)})
    job = PortraitJob.objects.get()
    assert job.status == "queued"
    response = ask_for_link(client, job, "jane@example.com", django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert "not ready yet" in response.content.decode()
    assert not ResultsEmail.objects.exists() and not mail.outbox


def test_an_earlier_link_stops_when_the_address_is_replaced(
    client: Client, done_job: PortraitJob, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    # The link works only while we hold the address it went to.
    ask_for_link(client, done_job, "typo@example.com", django_capture_on_commit_callbacks)
    ask_for_link(client, done_job, "jane@example.com", django_capture_on_commit_callbacks)
    first, second = (re.search(r"(http\S+/results/\S+/)", str(m.body)) for m in mail.outbox)
    assert first is not None and second is not None

    assert Client().get(first.group(1).removeprefix(settings.SITE_URL)).status_code == 410
    assert Client().get(second.group(1).removeprefix(settings.SITE_URL)).status_code == 302


def test_a_link_that_names_no_address_opens_nothing(
    client: Client, done_job: PortraitJob, django_capture_on_commit_callbacks: Any
) -> None:
    # The form of link sent before links named their address: no erasure could end it.
    from django.core import signing

    from portraits import notify

    ask_for_link(client, done_job, "jane@example.com", django_capture_on_commit_callbacks)
    legacy = signing.dumps({"job": str(done_job.id)}, salt=notify.LINK_SALT, compress=False)

    assert Client().get(f"/results/{legacy}/").status_code == 410
