"""Purchase records: kept for the tax period the retention schedule states, unlinked from portraits
when these go, and deleted by the daily housekeeping when their time is up."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from compliance.models import AuditEvent
from portraits.models import Purchase, PurchaseStatus
from portraits.payments import services as purchases
from portraits.services import erase_job, purge_expired_results
from portraits.tasks import delete_expired_purchase_records
from tests.payments.conftest import (
    FakeHostedGateway,
    FinishedJob,
    completed_session,
    event_payload,
    make_finished_job,
    post_event,
)

pytestmark = pytest.mark.django_db


def bought(client: Any, made: FinishedJob) -> Purchase:
    purchase, _ = purchases.start_purchase(made.job)
    post_event(client, event_payload("checkout.session.completed", completed_session(purchase)))
    purchase.refresh_from_db()
    assert purchase.status == PurchaseStatus.PAID
    return purchase


def test_the_retention_schedule_states_the_tax_period(client: Any, settings: Any) -> None:
    settings.PROPORTRAIT_PURCHASE_RECORD_RETENTION_YEARS = 6
    settings.PROPORTRAIT_UNPAID_PURCHASE_RETENTION_DAYS = 3
    page = client.get("/privacy/retention/").content.decode()
    assert 'id="retention-purchase_records"' in page
    assert "Kept 6 years after payment because tax law requires" in page
    assert "never paid are deleted after 3 days" in page
    policy = client.get("/api/v1/retention-policy/").json()
    (entry,) = [e for e in policy["entries"] if e["key"] == "purchase_records"]
    assert entry["limit"] == {"value": 6, "unit": "year"}


def test_a_paid_record_is_kept_until_the_end_of_the_tax_period(
    client: Any, payments_on: FakeHostedGateway, finished_job: FinishedJob, settings: Any
) -> None:
    settings.PROPORTRAIT_PURCHASE_RECORD_RETENTION_YEARS = 10
    purchase = bought(client, finished_job)
    assert purchase.paid_at is not None and purchase.keep_until is not None
    assert purchase.keep_until.year == purchase.paid_at.year + 10

    with time_machine.travel(purchase.keep_until - timedelta(days=1)):
        assert delete_expired_purchase_records()["past_tax_period"] == 0
    assert Purchase.objects.filter(pk=purchase.pk).exists()
    with time_machine.travel(purchase.keep_until + timedelta(hours=1)):
        assert delete_expired_purchase_records()["past_tax_period"] == 1
    assert not Purchase.objects.filter(pk=purchase.pk).exists()
    assert AuditEvent.objects.filter(action="purchases.deleted").exists()


def test_an_attempt_never_paid_is_deleted_after_a_week(
    client: Any, payments_on: FakeHostedGateway, finished_job: FinishedJob
) -> None:
    purchase, _ = purchases.start_purchase(finished_job.job)
    with time_machine.travel(timezone.now() + timedelta(days=6)):
        assert delete_expired_purchase_records()["never_paid"] == 0
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert delete_expired_purchase_records()["never_paid"] == 1
    assert not Purchase.objects.filter(pk=purchase.pk).exists()


def test_the_link_to_the_job_is_cut_when_results_expire(
    client: Any, payments_on: FakeHostedGateway, finished_job: FinishedJob
) -> None:
    purchase = bought(client, finished_job)
    assert purchase.job_id == finished_job.job.id
    with time_machine.travel(finished_job.job.expires_at + timedelta(minutes=1)):
        assert purge_expired_results() == 1
    purchase.refresh_from_db()
    assert purchase.job_id is None
    assert purchase.job_unlinked_at is not None
    assert purchase.status == PurchaseStatus.PAID  # the accounting record stays
    erased = AuditEvent.objects.get(action="job.erased", object_id=str(finished_job.job.id))
    assert erased.data["purchases_unlinked"] == 1


def test_the_link_is_cut_when_the_holder_deletes_the_portraits(
    client: Any, payments_on: FakeHostedGateway, db: Any
) -> None:
    made = make_finished_job()
    purchase = bought(client, made)
    erase_job(made.job, reason="holder_request", actor="job_holder")
    purchase.refresh_from_db()
    assert purchase.job_id is None
    assert Purchase.objects.filter(job=made.job).count() == 0
