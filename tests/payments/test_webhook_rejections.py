"""The webhook acts only on events signed with our secret, once per event id, for purchases we know."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from portraits.models import Purchase, PurchaseStatus, StripeEvent
from portraits.payments import services as purchases
from tests.payments.conftest import (
    WEBHOOK_URL,
    FakeHostedGateway,
    FinishedJob,
    completed_session,
    event_payload,
    post_event,
)

pytestmark = pytest.mark.django_db


def started(finished_job: FinishedJob) -> Purchase:
    purchase, _session = purchases.start_purchase(finished_job.job)
    return purchase


def test_it_rejects_a_wrong_signature(
    client: Any, payments_on: FakeHostedGateway, finished_job: FinishedJob
) -> None:
    purchase = started(finished_job)
    event = event_payload("checkout.session.completed", completed_session(purchase))
    response = post_event(client, event, secret="whsec_someone_else")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_signature"
    purchase.refresh_from_db()
    assert purchase.status == PurchaseStatus.PENDING
    assert not StripeEvent.objects.exists()


def test_it_rejects_a_missing_signature_and_a_tampered_body(
    client: Any, payments_on: FakeHostedGateway, finished_job: FinishedJob
) -> None:
    purchase = started(finished_job)
    event = event_payload("checkout.session.completed", completed_session(purchase, payment_status="unpaid"))
    unsigned = client.post(WEBHOOK_URL, data=json.dumps(event), content_type="application/json")
    assert unsigned.status_code == 400

    # Signed as unpaid, then edited to say paid: the signature no longer matches.
    import stripe

    from tests.payments.conftest import WEBHOOK_SECRET

    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(
        payload, WEBHOOK_SECRET, timestamp=int(time.time())
    )
    tampered = payload.replace('"unpaid"', '"paid"')
    response = client.post(
        WEBHOOK_URL, data=tampered, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    assert response.status_code == 400
    purchase.refresh_from_db()
    assert purchase.status == PurchaseStatus.PENDING


def test_it_rejects_a_replayed_old_event(
    client: Any, payments_on: FakeHostedGateway, finished_job: FinishedJob
) -> None:
    purchase = started(finished_job)
    event = event_payload("checkout.session.completed", completed_session(purchase))
    response = post_event(client, event, timestamp=int(time.time()) - 3600)  # outside the SDK's 5 minutes
    assert response.status_code == 400
    purchase.refresh_from_db()
    assert purchase.status == PurchaseStatus.PENDING


def test_it_acts_once_on_a_duplicated_event(
    client: Any, payments_on: FakeHostedGateway, finished_job: FinishedJob
) -> None:
    purchase = started(finished_job)
    event = event_payload("checkout.session.completed", completed_session(purchase))
    first = post_event(client, event)
    assert first.json()["outcome"] == "delivered"
    paid_at = Purchase.objects.get(pk=purchase.pk).paid_at

    # The same event delivered again (Stripe retries; an attacker replays within the window).
    second = post_event(client, event)
    assert second.status_code == 200
    assert second.json()["outcome"] == "duplicate"
    assert Purchase.objects.get(pk=purchase.pk).paid_at == paid_at
    assert StripeEvent.objects.filter(event_id=event["id"]).count() == 1

    # A second event about the same completed session (a different id) changes nothing either.
    again = post_event(client, event_payload("checkout.session.completed", completed_session(purchase)))
    assert again.json()["outcome"] == "already_paid"
    assert payments_on.refunds == []


def test_it_ignores_an_unknown_purchase(client: Any, payments_on: FakeHostedGateway, db: Any) -> None:
    session = {
        "id": "cs_test_unknown",
        "object": "checkout.session",
        "mode": "payment",
        "payment_status": "paid",
        "metadata": {"purchase_id": "5b0c1f7e-0000-4000-8000-000000000000"},
        "payment_intent": "pi_unknown",
    }
    response = post_event(client, event_payload("checkout.session.completed", session))
    assert response.status_code == 200
    assert response.json()["outcome"] == "unknown_purchase"
    not_ours = dict(session, metadata={"purchase_id": "not-a-uuid"})
    assert post_event(client, event_payload("checkout.session.completed", not_ours)).json()["outcome"] == (
        "unknown_purchase"
    )
    assert not Purchase.objects.exists()


def test_it_does_not_deliver_an_unpaid_session(
    client: Any, payments_on: FakeHostedGateway, finished_job: FinishedJob
) -> None:
    purchase = started(finished_job)
    unpaid = completed_session(purchase, payment_status="unpaid")  # e.g. a bank transfer still pending
    assert post_event(client, event_payload("checkout.session.completed", unpaid)).json()["outcome"] == (
        "not_paid_yet"
    )
    assert not purchases.full_resolution_unlocked(finished_job.job)

    # When the delayed payment succeeds, Stripe says so with another event, and we deliver.
    paid = completed_session(purchase)
    outcome = post_event(client, event_payload("checkout.session.async_payment_succeeded", paid)).json()
    assert outcome["outcome"] == "delivered"
    assert purchases.full_resolution_unlocked(finished_job.job)


def test_it_refuses_a_session_that_is_not_the_purchase_s_own(
    client: Any, payments_on: FakeHostedGateway, finished_job: FinishedJob
) -> None:
    purchase = started(finished_job)
    other_session = dict(completed_session(purchase), id="cs_test_another_session")
    outcome = post_event(client, event_payload("checkout.session.completed", other_session)).json()
    assert outcome["outcome"] == "session_mismatch"
    assert not purchases.full_resolution_unlocked(finished_job.job)


def test_it_marks_an_expired_checkout_as_abandoned(
    client: Any, payments_on: FakeHostedGateway, finished_job: FinishedJob
) -> None:
    purchase = started(finished_job)
    expired = dict(completed_session(purchase, payment_status="unpaid"), status="expired")
    assert (
        post_event(client, event_payload("checkout.session.expired", expired)).json()["outcome"]
        == "abandoned"
    )
    purchase.refresh_from_db()
    assert purchase.status == PurchaseStatus.ABANDONED


def test_the_webhook_is_off_in_free_mode(client: Any, settings: Any, db: Any) -> None:
    settings.PROPORTRAIT_PAYMENTS_ENABLED = False
    assert client.post(WEBHOOK_URL, data="{}", content_type="application/json").status_code == 404
