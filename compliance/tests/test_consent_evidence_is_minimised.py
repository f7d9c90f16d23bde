"""Consent evidence outlives the data it covers by PROPORTRAIT_CONSENT_EVIDENCE_DAYS, then is
reduced to document version, hash and dates, as the public retention schedule says."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from compliance import services
from compliance.models import AuditEvent, ConsentRecord
from compliance.services.housekeeping import run_daily_housekeeping
from compliance.tests.conftest import consent_act, give_consent, make_user

pytestmark = pytest.mark.django_db

EVIDENCE = ("signature_name", "ip_truncated", "user_agent")


def evidence(record: ConsentRecord) -> tuple[str, str, str]:
    record.refresh_from_db()
    return (record.signature_name, record.ip_truncated, record.user_agent)


def erased_anonymous_job() -> ConsentRecord:
    from django.test import TestCase

    from portraits.models import JobStatus, PortraitJob
    from portraits.services import ClientInfo, create_job
    from tests.photos import face_jpeg

    with TestCase.captureOnCommitCallbacks(execute=False):  # no generation task
        created = create_job(
            photo=face_jpeg(),
            consent=consent_act(),
            client=ClientInfo(ip="203.0.113.77", user_agent="TestBrowser/1.0"),
            style_slug="corporate-grey",
            check_rate_limit=False,
        )
    PortraitJob.objects.filter(pk=created.job.pk).update(status=JobStatus.DELETED, deleted_at=timezone.now())
    return ConsentRecord.objects.get(job_id=created.job.pk)


def test_anonymous_job_evidence_is_kept_for_the_period_then_reduced(settings: Any) -> None:
    settings.PROPORTRAIT_CONSENT_EVIDENCE_DAYS = 1095
    with time_machine.travel("2026-01-01 09:00Z", tick=False):
        record = erased_anonymous_job()
        live = give_consent(job_id=uuid.uuid4())  # a job that was never erased
    before = (record.document_version, record.document_sha256, record.recorded_at, record.purpose)

    with time_machine.travel("2028-12-31 09:00Z", tick=False):  # 1095 days is not yet over
        assert run_daily_housekeeping()["consent_records_minimised"] == 0
    assert evidence(record) == ("Jane Q. Example", "203.0.113.0/24", "TestBrowser/1.0")

    with time_machine.travel("2029-01-02 09:00Z", tick=False):
        counts = run_daily_housekeeping()
        again = run_daily_housekeeping()

    assert counts["consent_records_minimised"] == 1 and again["consent_records_minimised"] == 0
    assert evidence(record) == ("", "", "")
    assert (record.document_version, record.document_sha256, record.recorded_at, record.purpose) == before
    assert evidence(live) == ("Jane Q. Example", "203.0.113.0/24", "TestBrowser/1.0")
    event = AuditEvent.objects.get(action="consent.evidence_minimised")
    assert event.data == {"records": 1}


def test_a_users_evidence_is_reduced_after_their_erasure_unless_they_consented_again(
    settings: Any,
) -> None:
    settings.PROPORTRAIT_CONSENT_EVIDENCE_DAYS = 30
    withdrawn_user, returning_user = make_user("gone@example.com"), make_user("back@example.com")
    with time_machine.travel("2026-01-01 09:00Z", tick=False):
        kept = give_consent(user=withdrawn_user)
        returning = give_consent(user=returning_user)
        services.withdraw_consent(user=withdrawn_user, actor="test", ip="203.0.113.8", user_agent="UA/2")
        services.withdraw_consent(user=returning_user, actor="test")
    with time_machine.travel("2026-01-20 09:00Z", tick=False):
        give_consent(user=returning_user)  # new photos may exist: keep the evidence

    with time_machine.travel("2026-02-15 09:00Z", tick=False):
        minimised = run_daily_housekeeping()["consent_records_minimised"]

    assert minimised == 2  # the consent and its withdrawal record
    assert evidence(kept) == ("", "", "")
    assert not ConsentRecord.objects.filter(user=withdrawn_user).exclude(ip_truncated="").exists()
    assert evidence(returning)[0] == "Jane Q. Example"


def test_the_public_schedule_and_the_api_state_the_period(client: Any, settings: Any) -> None:
    settings.PROPORTRAIT_CONSENT_EVIDENCE_DAYS = 1095
    line = (
        "Proof of consent kept 1095 days after the data it covers is erased, then reduced to "
        "document version, hash and dates"
    )
    assert line in client.get("/privacy/retention/").content.decode()
    policy = client.get("/api/v1/retention-policy/").json()
    assert policy["consent_evidence_days"] == 1095
    entry = next(e for e in policy["entries"] if e["key"] == "consent_records")
    assert entry["limit"] == {"value": 1095, "unit": "day"} and line in entry["retention"]
