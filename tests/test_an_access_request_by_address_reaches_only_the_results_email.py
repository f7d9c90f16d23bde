"""A verified address reaches the jobs whose results link was mailed to it, but only the address.

Found: an access request by e-mail address did not find the jobs whose results were e-mailed to
that address, so the answer left out an address we hold. Knowing a mailbox is not the same as
holding the job (the bearer link went there, but the person asking may not be the one who
uploaded), so the answer says that we hold the address for job X, with its dates, and never
includes the portraits; the job reference proves the job. The address is matched by its
normalised key (proportrait.addresses), exactly: a look-alike address reaches nothing. Both
stacks.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from compliance.models import DataExport, DsarStatus
from tests.results_email_rights import (
    HOLDER,
    LOOK_ALIKES,
    SAME_MAILBOX,
    ask,
    download_export,
    finished_web_job,
    html_part,
    last_mail_to,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("typed", [HOLDER, *SAME_MAILBOX])
def test_it_says_we_hold_the_address_for_the_job_and_sends_no_portraits(
    typed: str, api_client: Any, consent_fields: Any, eager_celery: None
) -> None:
    web = finished_web_job(consent_fields, HOLDER)

    request = ask(api_client, typed, "access")

    assert request.status == DsarStatus.COMPLETED
    answer = last_mail_to(typed)
    assert "We found no data linked to this" not in answer.body
    data, archive = download_export(answer)
    part = data["parts"]["portraits"]
    assert part["portrait_jobs"] == []
    stored = web.job.results_email
    assert part["results_emails_by_address"] == [
        {
            "job_id": str(web.job.id),
            "address": HOLDER,
            "requested_at": stored.requested_at.isoformat(),
            "last_sent_at": stored.last_sent_at.isoformat() if stored.last_sent_at else None,
            "sends": 1,
            "kept_until": web.job.expires_at.isoformat(),
        }
    ]
    assert "job reference" in part["results_emails_by_address_note"]
    # No portrait of a job the address does not prove.
    assert not [name for name in archive.namelist() if name.startswith("files/portraits/")]
    assert not [item for item in data["files"] if item["part"] == "portraits"]


@pytest.mark.parametrize(("typed", "why"), LOOK_ALIKES, ids=[row[1] for row in LOOK_ALIKES])
def test_a_look_alike_address_reaches_nothing(
    typed: str, why: str, api_client: Any, consent_fields: Any, eager_celery: None
) -> None:
    finished_web_job(consent_fields, HOLDER)
    mails_to_holder = [message for message in mail.outbox if message.to == [HOLDER]]

    request = ask(api_client, typed, "access")

    assert request.status == DsarStatus.COMPLETED
    answer = last_mail_to(typed)
    for body in (answer.body, html_part(answer)):
        assert "We found no data linked to this" in body
        assert HOLDER not in body
    assert not DataExport.objects.exists()
    # The holder's mailbox got nothing from this request either.
    assert [message for message in mail.outbox if message.to == [HOLDER]] == mails_to_holder
