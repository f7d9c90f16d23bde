"""What a person reads after a rights request is true: rendered after the event, checked against
the database.

Found: a request that matched nothing said "Erased" with every count at 0; the certificate said
"portrait_jobs 1 deleted" while the job row stayed with its token hash, seed and ciphertext
hash; three "notice" rows were written as "recorded in notice log" with nothing sent, while the
mail said "We have also told each of our sub-processors" and the certificate "Sub-processors
notified".
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client, TestCase

from compliance import pdf
from compliance.models import (
    DataExport,
    DataSubjectRequest,
    DeletionCertificate,
    DsarStatus,
    SubProcessor,
    SubprocessorErasureNotice,
)
from compliance.tests.conftest import consent_act, message_parts, pdf_text

pytestmark = pytest.mark.django_db

EMAIL = "nobody-here@example.com"


def ask(api_client: Any, request_type: str, **fields: Any) -> DataSubjectRequest:
    response = api_client.post(
        "/api/v1/dsar/", {"email": EMAIL, "request_type": request_type, **fields}, format="json"
    )
    assert response.status_code == 202, response.content
    code = re.search(r"\b(\d{6})\b", str(mail.outbox[-1].body))
    assert code is not None
    verified = api_client.post(
        f"/api/v1/dsar/{response.json()['id']}/verify/", {"code": code.group(1)}, format="json"
    )
    assert verified.status_code == 200, verified.content
    return DataSubjectRequest.objects.get(pk=response.json()["id"])


def certificate_path(message: Any) -> str:
    found = re.search(r"http://\S+(/privacy/certificates/\S+/)", message.body)
    assert found is not None
    return found.group(1)


def test_an_erasure_that_finds_nothing_says_so_everywhere(api_client: Any, eager_celery: None) -> None:
    request = ask(api_client, "erasure")

    assert request.status == DsarStatus.COMPLETED
    assert request.certificate_id is not None
    certificate = DeletionCertificate.objects.get(pk=request.certificate_id)
    assert certificate.items_erased == 0 and certificate.found_nothing
    assert not SubprocessorErasureNotice.objects.exists()
    # The mail
    completed = mail.outbox[-1]
    text, html = message_parts(completed)
    assert completed.to == [EMAIL]
    for body in (text, html):
        assert "We found no data linked to this" in body
        assert "found nothing to erase" in body
        assert "Erased" not in body and "sub-processor" not in body
    # The certificate
    certificate_text = pdf_text(Client().get(certificate_path(completed)).content)
    assert "No data found" in certificate_text and "nothing to erase" in certificate_text
    assert "This certifies that the personal data described below was erased" not in certificate_text
    assert "None told: nothing was erased" in certificate_text
    # The page
    page = Client().get(f"/privacy/requests/{request.pk}/").content.decode()
    assert "We found no data linked to this" in page


def test_an_access_request_that_finds_nothing_says_so_and_sends_no_archive(
    api_client: Any, eager_celery: None
) -> None:
    request = ask(api_client, "access")

    assert request.status == DsarStatus.COMPLETED
    assert not DataExport.objects.exists()
    text, html = message_parts(mail.outbox[-1])
    assert "We found no data linked to this" in text and "We found no data linked to this" in html
    assert "/privacy/exports/" not in text and "Download your data" not in html


def anonymous_job_with_results() -> tuple[Any, str]:
    from portraits.services import ClientInfo, create_job
    from tests.photos import face_jpeg

    with TestCase.captureOnCommitCallbacks(execute=False):
        created = create_job(
            photo=face_jpeg(),
            consent=consent_act(),
            client=ClientInfo(ip="203.0.113.9"),
            style_slug="corporate-grey",
            check_rate_limit=False,
        )
    return created.job, created.token


def test_an_erasure_certificate_counts_what_went_and_states_what_stays(
    api_client: Any, eager_celery: None, settings: Any
) -> None:
    from portraits.models import JobStatus, PortraitJob

    settings.PROPORTRAIT_ERASED_JOB_RECORD_DAYS = 30
    job, token = anonymous_job_with_results()
    assert PortraitJob.objects.get(pk=job.pk).seed != 0

    request = ask(api_client, "erasure", job_reference=token)

    assert request.certificate_id is not None
    certificate = DeletionCertificate.objects.get(pk=request.certificate_id)
    assert not certificate.found_nothing and certificate.items_erased >= 2
    row = PortraitJob.objects.get(pk=job.pk)
    assert row.status == JobStatus.DELETED
    assert (row.seed, row.style_spec, row.original_ciphertext_sha256) == (0, {}, "")
    text = pdf_text(pdf.render_certificate(certificate))
    assert "1 emptied job record(s)" in text and "deleted after 30 days" in text
    # ...and the public retention schedule lists that record with the same period.
    schedule = api_client.get("/api/v1/retention-policy/").json()
    entry = next(item for item in schedule["entries"] if item["key"] == "erased_job_records")
    assert entry["limit"] == {"value": 30, "unit": "day"} and schedule["erased_job_record_days"] == 30
    assert "Record of an erased portrait job" in Client().get("/privacy/retention/").content.decode()


def test_the_emptied_job_records_are_deleted_after_their_period(settings: Any) -> None:
    import time_machine

    from portraits.models import PortraitJob
    from portraits.services import erase_job, purge_expired_results

    settings.PROPORTRAIT_ERASED_JOB_RECORD_DAYS = 30
    with time_machine.travel("2026-03-01 10:00Z", tick=False):
        job, _ = anonymous_job_with_results()
        erase_job(job, reason="holder_request", actor="job_holder")
    with time_machine.travel("2026-03-30 10:00Z", tick=False):
        purge_expired_results()
    assert PortraitJob.objects.filter(pk=job.pk).exists()
    with time_machine.travel("2026-04-01 10:00Z", tick=False):
        purge_expired_results()
    assert not PortraitJob.objects.filter(pk=job.pk).exists()


def test_sub_processor_notices_are_sent_and_the_mail_says_exactly_what_happened(
    api_client: Any, eager_celery: None
) -> None:
    SubProcessor.objects.filter(name__startswith="Postmark").update(
        privacy_contact_email="dpo@postmark.example"
    )
    active = SubProcessor.objects.filter(until__isnull=True).count()
    _, token = anonymous_job_with_results()

    request = ask(api_client, "erasure", job_reference=token)

    notices = SubprocessorErasureNotice.objects.filter(certificate_id=request.certificate_id)
    sent = notices.filter(sent_at__isnull=False)
    assert notices.count() == active and sent.count() == 1 and sent.get().send_result == "sent"
    assert [m for m in mail.outbox if m.to == ["dpo@postmark.example"]]
    not_sent = active - 1
    assert notices.filter(sent_at__isnull=True, method__startswith="not sent").count() == not_sent
    completed = next(m for m in reversed(mail.outbox) if m.to == [EMAIL])
    text, html = message_parts(completed)
    for body in (text, html):
        assert "We e-mailed an erasure notice to 1 of our sub-processor." in body
        assert f"{not_sent} sub-processors could not be e-mailed" in body
        assert "told each of our sub-processors" not in body
    certificate_text = pdf_text(Client().get(certificate_path(completed)).content)
    assert "sent" in certificate_text and "not sent: no privacy contact" in certificate_text


def test_a_notice_that_fails_to_send_is_recorded_as_failed(
    api_client: Any, eager_celery: None, monkeypatch: Any
) -> None:
    from compliance.services import erasure

    SubProcessor.objects.filter(name__startswith="Postmark").update(
        privacy_contact_email="dpo@postmark.example"
    )
    real_send = erasure.send_email

    def flaky(name: str, to: Any, context: Any, **kwargs: Any) -> None:
        if name == "subprocessor-erasure-notice":
            raise ConnectionRefusedError("smtp down")
        real_send(name, to, context, **kwargs)

    monkeypatch.setattr(erasure, "send_email", flaky)
    _, token = anonymous_job_with_results()

    request = ask(api_client, "erasure", job_reference=token)

    notice = SubprocessorErasureNotice.objects.get(
        certificate_id=request.certificate_id, subprocessor_name__startswith="Postmark"
    )
    assert notice.sent_at is None and notice.send_result == "failed: ConnectionRefusedError"
    text, _ = message_parts(next(m for m in reversed(mail.outbox) if m.to == [EMAIL]))
    assert "We e-mailed an erasure notice" not in text
    assert "could not be e-mailed" in text


def test_the_privacy_notice_and_the_deletion_receipt_state_what_is_kept(client: Any) -> None:
    privacy = client.get("/privacy/").content.decode()
    assert "receive encrypted data only" not in privacy
    assert "Our e-mail provider receives what it delivers" in privacy


@pytest.mark.parametrize("action", ["portraits:delete", "portraits:withdraw"])
def test_the_deletion_receipt_names_what_stays_as_the_database_holds_it(
    client: Any, settings: Any, action: str
) -> None:
    from django.urls import reverse

    from compliance.models import ConsentRecord

    settings.PROPORTRAIT_ERASED_JOB_RECORD_DAYS = 30
    settings.PROPORTRAIT_CONSENT_EVIDENCE_DAYS = 1095
    job, token = anonymous_job_with_results()

    page = client.post(reverse(action, args=[job.id]), HTTP_X_JOB_TOKEN=token).content.decode()

    kept = ConsentRecord.objects.filter(job_id=job.id, action="given").first()
    assert kept is not None and kept.signature_name and kept.ip_truncated  # it does stay...
    assert "no personal data" not in page  # ...so the receipt must not say nothing personal stays
    assert "the name you typed" in page and "We keep it 1095 days" in page
    assert "deleted after 30 days" in page
