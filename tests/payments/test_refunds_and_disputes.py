"""Refunds and disputes take the download away; a payment for portraits that are gone is refunded.

Refunds and payment intents run against a real localstripe server on 127.0.0.1.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine

from portraits.models import JobStatus, Purchase, PurchaseStatus
from portraits.payments import services as purchases
from portraits.services import erase_job, purge_expired_results
from tests.payments.conftest import (
    FakeHostedGateway,
    FinishedJob,
    completed_session,
    event_payload,
    paid_payment_intent,
    post_event,
    refunds_of,
)

pytestmark = pytest.mark.django_db


def complete(client: Any, purchase: Purchase, intent: str) -> str:
    session = completed_session(purchase, payment_intent=intent)
    return str(post_event(client, event_payload("checkout.session.completed", session)).json()["outcome"])


def paid(client: Any, made: FinishedJob, payment_intent: str | None = None) -> Purchase:
    purchase, _ = purchases.start_purchase(made.job)
    event = event_payload(
        "checkout.session.completed", completed_session(purchase, payment_intent=payment_intent)
    )
    assert post_event(client, event).json()["outcome"] == "delivered"
    purchase.refresh_from_db()
    return purchase


def charge(purchase: Purchase, *, refunded: bool = True, with_metadata: bool = True) -> dict[str, Any]:
    return {
        "id": "ch_test_1",
        "object": "charge",
        "payment_intent": purchase.payment_intent_id or "pi_not_known_yet",
        "refunded": refunded,
        "amount_refunded": purchase.amount_cents if refunded else 100,
        "metadata": {"purchase_id": str(purchase.id)} if with_metadata else {},
    }


def test_a_full_refund_revokes_the_download(
    client: Any, payments_on: FakeHostedGateway, finished_job: FinishedJob
) -> None:
    purchase = paid(client, finished_job)
    assert purchases.full_resolution_unlocked(finished_job.job)

    partial = post_event(client, event_payload("charge.refunded", charge(purchase, refunded=False)))
    assert partial.json()["outcome"] == "partial_refund_kept"
    assert purchases.full_resolution_unlocked(finished_job.job)

    full = post_event(client, event_payload("charge.refunded", charge(purchase)))
    assert full.json()["outcome"] == "revoked_refunded"
    purchase.refresh_from_db()
    assert purchase.status == PurchaseStatus.REFUNDED
    assert not purchases.full_resolution_unlocked(finished_job.job)
    session = client.session
    session["portrait_jobs"] = [str(finished_job.job.id)]
    session.save()
    page = client.get(f"/jobs/{finished_job.job.id}/").content.decode()
    assert "was refunded" in page
    status = client.get(f"/api/v1/jobs/{finished_job.job.id}/").json()
    assert status["portraits"][0]["download_url"] is None


def test_a_dispute_revokes_and_a_won_dispute_gives_it_back(
    client: Any, payments_on: FakeHostedGateway, finished_job: FinishedJob
) -> None:
    purchase = paid(client, finished_job)
    dispute = {
        "id": "dp_1",
        "object": "dispute",
        "payment_intent": purchase.payment_intent_id,
        "charge": "ch_1",
    }
    opened = post_event(
        client, event_payload("charge.dispute.created", dict(dispute, status="needs_response"))
    )
    assert opened.json()["outcome"] == "revoked_disputed"
    assert not purchases.full_resolution_unlocked(finished_job.job)

    closed = post_event(client, event_payload("charge.dispute.closed", dict(dispute, status="won")))
    assert closed.json()["outcome"] == "reinstated"
    assert purchases.full_resolution_unlocked(finished_job.job)


def test_a_refund_that_arrives_before_the_completion_keeps_the_purchase_revoked(
    client: Any, localstripe: FakeHostedGateway, finished_job: FinishedJob, settings: Any
) -> None:
    purchase, _ = purchases.start_purchase(finished_job.job)
    intent = paid_payment_intent(settings, str(purchase.id))
    # The charge event carries no metadata: the purchase is found through the payment intent's.
    refund = dict(charge(purchase, with_metadata=False), payment_intent=intent)
    assert (
        post_event(client, event_payload("charge.refunded", refund)).json()["outcome"] == "revoked_refunded"
    )

    completed = completed_session(purchase, payment_intent=intent)
    outcome = post_event(client, event_payload("checkout.session.completed", completed)).json()["outcome"]
    assert outcome == "already_refunded"
    purchase.refresh_from_db()
    assert purchase.status == PurchaseStatus.REFUNDED
    assert not purchases.full_resolution_unlocked(finished_job.job)


def test_a_payment_for_expired_results_is_refunded_and_not_delivered(
    client: Any, localstripe: FakeHostedGateway, finished_job: FinishedJob, settings: Any
) -> None:
    purchase, _ = purchases.start_purchase(finished_job.job)
    intent = paid_payment_intent(settings, str(purchase.id))
    # The buyer sat on the Checkout page while the results' time ran out.
    with time_machine.travel(finished_job.job.expires_at + timedelta(minutes=5)):
        assert purge_expired_results() == 1
        response = post_event(
            client,
            event_payload("checkout.session.completed", completed_session(purchase, payment_intent=intent)),
        )
    assert response.json()["outcome"] == "refunded_results_gone"
    purchase.refresh_from_db()
    assert purchase.status == PurchaseStatus.REFUNDED
    assert purchase.revocation_reason == "results_gone"
    assert purchase.job is None  # the purge cut the link
    (refund,) = refunds_of(settings, intent)
    assert refund.amount == 900


def test_a_payment_for_an_erased_job_is_refunded(
    client: Any, localstripe: FakeHostedGateway, finished_job: FinishedJob, settings: Any
) -> None:
    purchase, _ = purchases.start_purchase(finished_job.job)
    intent = paid_payment_intent(settings, str(purchase.id))
    erase_job(finished_job.job, reason="holder_request", actor="job_holder")
    finished_job.job.refresh_from_db()
    assert finished_job.job.status == JobStatus.DELETED

    response = post_event(
        client,
        event_payload("checkout.session.completed", completed_session(purchase, payment_intent=intent)),
    )
    assert response.json()["outcome"] == "refunded_results_gone"
    assert len(refunds_of(settings, intent)) == 1
    # Delivered twice by Stripe: refunded once.
    assert (
        post_event(
            client,
            event_payload("checkout.session.completed", completed_session(purchase, payment_intent=intent)),
        ).json()["outcome"]
        == "already_refunded"
    )
    assert len(refunds_of(settings, intent)) == 1


def test_a_second_payment_for_a_bought_job_is_refunded(
    client: Any, localstripe: FakeHostedGateway, finished_job: FinishedJob, settings: Any
) -> None:
    # Two tabs, two checkouts, both paid: the second payment goes back.
    first, _ = purchases.start_purchase(finished_job.job)
    second, _ = purchases.start_purchase(finished_job.job)
    first_intent = paid_payment_intent(settings, str(first.id))
    second_intent = paid_payment_intent(settings, str(second.id))
    post_event(
        client,
        event_payload("checkout.session.completed", completed_session(first, payment_intent=first_intent)),
    )
    outcome = post_event(
        client,
        event_payload("checkout.session.completed", completed_session(second, payment_intent=second_intent)),
    )
    assert outcome.json()["outcome"] == "refunded_duplicate_payment"
    assert refunds_of(settings, first_intent) == []
    assert len(refunds_of(settings, second_intent)) == 1
    assert purchases.full_resolution_unlocked(finished_job.job)
    # The results page shows the purchase that counts, not the refunded duplicate.
    page = client.get(f"/jobs/{finished_job.job.id}/", HTTP_X_JOB_TOKEN=finished_job.token).content.decode()
    assert "Full resolution bought" in page
    assert str(first.id) in page


def test_a_refund_stripe_cannot_make_now_is_retried(
    client: Any, payments_on: FakeHostedGateway, finished_job: FinishedJob
) -> None:
    from portraits.models import StripeEvent
    from portraits.payments.stripe_gateway import GatewayError

    purchase, _ = purchases.start_purchase(finished_job.job)
    erase_job(finished_job.job, reason="holder_request", actor="job_holder")

    def unreachable(payment_intent_id: str, *, idempotency_key: str) -> str:
        raise GatewayError("connection refused")

    payments_on.refund_payment = unreachable  # type: ignore[method-assign]
    event = event_payload("checkout.session.completed", completed_session(purchase))
    response = post_event(client, event)
    assert response.status_code == 503  # Stripe delivers it again later
    assert not StripeEvent.objects.filter(event_id=event["id"]).exists()
    purchase.refresh_from_db()
    assert purchase.status == PurchaseStatus.PENDING
