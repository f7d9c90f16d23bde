"""An erasure request by address erases the results e-mail address and the link sent to it.

Found: an erasure request by e-mail address did not find the jobs whose results were e-mailed to
that address; the address stayed until the results expired, and the bearer link in the mailbox
kept opening the portraits. A mailbox does not prove who holds a job, so an erasure by address
removes the address and ends the e-mailed link, but leaves the portraits to whoever holds the
job (the certificate and the mail say so, with the counts); with the job reference the whole job
goes. A look-alike address erases nothing. Both stacks.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from compliance.models import AuditEvent, DeletionCertificate, DsarStatus
from portraits.models import JobStatus, Portrait, PortraitJob, ResultsEmail
from tests.results_email_rights import (
    HOLDER,
    LOOK_ALIKES,
    SAME_MAILBOX,
    ask,
    certificate_text,
    finished_web_job,
    html_part,
    last_mail_to,
)

pytestmark = pytest.mark.django_db

ADDRESSES_LABEL = "Results e-mail addresses (and the links sent to them)"


@pytest.mark.parametrize("typed", [HOLDER, SAME_MAILBOX[0]])
def test_it_erases_the_address_and_the_link_and_says_the_portraits_stay(
    typed: str, api_client: Any, consent_fields: Any, eager_celery: None
) -> None:
    web = finished_web_job(consent_fields, HOLDER)
    portraits = Portrait.objects.filter(job=web.job).count()
    assert Client().get(web.link_path).status_code == 302  # the link works before

    request = ask(api_client, typed, "erasure")

    assert request.status == DsarStatus.COMPLETED
    # The address and the link are gone...
    assert not ResultsEmail.objects.exists()
    gone = Client().get(web.link_path)
    assert gone.status_code == 410 and "no longer available" in gone.content.decode()
    # ...and the portraits stay with the browser that holds the job.
    assert PortraitJob.objects.get(pk=web.job.pk).status == JobStatus.DONE
    assert Portrait.objects.filter(job=web.job).count() == portraits
    page = web.browser.get(f"/jobs/{web.job.id}/")
    assert page.status_code == 200 and "We sent a link to" not in page.content.decode()

    # What we state matches the database: one address erased, nothing else.
    certificate = DeletionCertificate.objects.get(pk=request.certificate_id)
    assert certificate.items_erased == 1 and not certificate.found_nothing
    assert certificate.scope["erased"]["portraits"]["results_email_addresses"] == 1
    assert certificate.scope["erased"]["portraits"]["portraits"] == 0
    answer = last_mail_to(typed)
    for body in (answer.body, html_part(answer)):
        assert f"{ADDRESSES_LABEL}: 1" in body
        assert "Portraits: " not in body and "We found no data linked to this" not in body
        assert "were not erased, because an e-mail address does not prove who holds a job" in body
    text = certificate_text(answer)
    assert ADDRESSES_LABEL in text
    assert "The portraits of 1 job(s) whose results link was e-mailed to this address were not erased" in text
    # The audit log proves the erasure without holding the address.
    assert AuditEvent.objects.filter(action="job.results_email_erased", object_id=str(web.job.id)).exists()
    assert not any(HOLDER in str(event.data) for event in AuditEvent.objects.all())


def test_with_the_job_reference_the_whole_job_goes_and_the_address_is_counted(
    api_client: Any, consent_fields: Any, eager_celery: None
) -> None:
    web = finished_web_job(consent_fields, HOLDER)
    portraits = Portrait.objects.filter(job=web.job).count()
    asker = "someone.else@example.org"

    request = ask(api_client, asker, "erasure", job_reference=web.reference)

    assert PortraitJob.objects.get(pk=web.job.pk).status == JobStatus.DELETED
    assert not ResultsEmail.objects.exists() and not Portrait.objects.exists()
    assert Client().get(web.link_path).status_code == 410
    erased = DeletionCertificate.objects.get(pk=request.certificate_id).scope["erased"]["portraits"]
    assert erased["portrait_jobs"] == 1 and erased["portraits"] == portraits
    assert erased["results_email_addresses"] == 1
    answer = last_mail_to(asker)
    for body in (answer.body, html_part(answer)):
        assert f"{ADDRESSES_LABEL}: 1" in body and f"Portraits: {portraits}" in body
        assert "were not erased" not in body


@pytest.mark.parametrize(("typed", "why"), LOOK_ALIKES, ids=[row[1] for row in LOOK_ALIKES])
def test_a_look_alike_address_erases_nothing(
    typed: str, why: str, api_client: Any, consent_fields: Any, eager_celery: None
) -> None:
    web = finished_web_job(consent_fields, HOLDER)

    request = ask(api_client, typed, "erasure")

    assert ResultsEmail.objects.get(job=web.job).address == HOLDER
    assert Client().get(web.link_path).status_code == 302  # the holder's link still works
    certificate = DeletionCertificate.objects.get(pk=request.certificate_id)
    assert certificate.found_nothing
    answer = last_mail_to(typed)
    assert "We found no data linked to this" in answer.body and HOLDER not in answer.body
