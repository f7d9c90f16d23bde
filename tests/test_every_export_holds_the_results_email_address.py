"""An access export holds the results e-mail address of every job in the person's scope.

Found: "E-mail me a link to my results" stores an address per job until the results expire, yet
an access or portability export left it out: personal data we hold, outside the rights path.
"""

from __future__ import annotations

from typing import Any

import pytest

from accounts.tests.conftest import logged_in_client
from compliance.models import DsarStatus
from compliance.tests.conftest import confirm_as_holder, make_user, pdf_text
from portraits.models import PortraitJob
from tests.results_email_rights import HOLDER, ask, download_export, finished_web_job, last_mail_to

pytestmark = pytest.mark.django_db


def test_it_exports_the_address_with_a_job_proven_by_its_reference(
    api_client: Any, consent_fields: Any, eager_celery: None
) -> None:
    web = finished_web_job(consent_fields, HOLDER)
    asker = "someone.else@example.org"

    request = ask(api_client, asker, "access", job_reference=web.reference)

    assert request.status == DsarStatus.COMPLETED
    data, archive = download_export(last_mail_to(asker))
    names = set(archive.namelist())
    (job,) = data["parts"]["portraits"]["portrait_jobs"]
    assert job["id"] == str(web.job.id)
    stored = PortraitJob.objects.get(pk=web.job.pk).results_email
    assert job["results_email"] == {
        "address": HOLDER,
        "requested_at": stored.requested_at.isoformat(),
        "last_sent_at": stored.last_sent_at.isoformat() if stored.last_sent_at else None,
        "sends": 1,
        "kept_until": web.job.expires_at.isoformat(),
    }
    # The job is proven, so its portraits come too; the address is not listed a second time.
    assert len(job["portraits"]) == web.job.portraits.count() > 0
    assert all(f"files/portraits/{item['file']}" in names for item in job["portraits"])
    assert "results_emails_by_address" not in data["parts"]["portraits"]


def test_it_exports_the_address_with_an_account_job(
    api_client: Any, consent_fields: Any, eager_celery: None
) -> None:
    web = finished_web_job(consent_fields, "kim.inbox@example.net")
    user = make_user("kim.account@example.com")
    claimed = logged_in_client(user).post("/accounts/claim/", {"action": "token", "token": web.reference})
    assert claimed.status_code == 302 and PortraitJob.objects.get(pk=web.job.pk).owner_id == user.pk

    request = ask(api_client, user.email, "access")
    confirm_as_holder(user, request.pk)

    data, _ = download_export(last_mail_to(user.email))
    (job,) = data["parts"]["portraits"]["portrait_jobs"]
    assert job["results_email"]["address"] == "kim.inbox@example.net"
    assert job["results_email"]["sends"] == 1


def test_the_cover_sheet_names_the_category(api_client: Any, consent_fields: Any, eager_celery: None) -> None:
    web = finished_web_job(consent_fields, HOLDER)

    ask(api_client, HOLDER, "access", job_reference=web.reference)

    _, archive = download_export(last_mail_to(HOLDER))
    cover = pdf_text(archive.read("cover-sheet.pdf"))
    assert "The address you asked us to e-mail your results link to" in cover
