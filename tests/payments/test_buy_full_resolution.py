"""Buying full resolution: Checkout carries only our purchase id; delivery follows a verified paid webhook."""

from __future__ import annotations

import json
from typing import Any

import pytest

from compliance.models import AuditEvent
from portraits.models import Purchase, PurchaseStatus
from tests.payments.conftest import (
    FakeHostedGateway,
    FinishedJob,
    completed_session,
    event_payload,
    post_event,
)

pytestmark = pytest.mark.django_db


def holder(client: Any, made: FinishedJob) -> Any:
    session = client.session
    session["portrait_jobs"] = [str(made.job.id)]
    session.save()
    return client


def buy(client: Any, made: FinishedJob) -> Any:
    return client.post(f"/jobs/{made.job.id}/buy/")


def job_status(client: Any, made: FinishedJob) -> dict[str, Any]:
    return client.get(f"/api/v1/jobs/{made.job.id}/", HTTP_X_JOB_TOKEN=made.token).json()


def test_it_sends_the_buyer_to_stripe_checkout_with_our_purchase_id_only(
    client: Any, payments_on: FakeHostedGateway, finished_job: FinishedJob
) -> None:
    response = buy(holder(client, finished_job), finished_job)

    assert response.status_code == 303
    assert response["Location"].startswith("https://checkout.stripe.com/")
    purchase = Purchase.objects.get(job=finished_job.job)
    assert purchase.status == PurchaseStatus.PENDING
    assert purchase.checkout_session_id and response["Location"].endswith(purchase.checkout_session_id)
    (call,) = payments_on.checkout_calls
    params = call["params"]
    assert params["metadata"] == {"purchase_id": str(purchase.id)}
    assert params["payment_intent_data"]["metadata"] == {"purchase_id": str(purchase.id)}
    assert params["client_reference_id"] == str(purchase.id)
    assert params["line_items"][0]["price_data"]["unit_amount"] == 900
    assert params["line_items"][0]["price_data"]["currency"] == "eur"
    # Nothing about the job, its token or the photo reaches Stripe, not even in the return URLs.
    sent = json.dumps(params)
    assert str(finished_job.job.id) not in sent
    assert finished_job.token not in sent
    assert finished_job.job.token_hash not in sent
    assert f"/purchases/{purchase.id}/return/" in params["success_url"]


def test_it_refuses_downloads_until_a_paid_webhook_arrives(
    client: Any, payments_on: FakeHostedGateway, finished_job: FinishedJob
) -> None:
    holder(client, finished_job)
    status = job_status(client, finished_job)
    assert [p["download_url"] for p in status["portraits"]] == [None, None]
    assert all(p["preview_url"] for p in status["portraits"])
    page = client.get(f"/jobs/{finished_job.job.id}/").content.decode()
    assert 'id="buy-full-resolution"' in page
    assert "€9.00" in page

    # A full-resolution link made by hand (signed for "full") is refused too.
    from portraits.services import signed_portrait_url

    portrait = finished_job.job.portraits.first()
    assert portrait is not None
    refused = client.get(signed_portrait_url(portrait, "full"))
    assert refused.status_code == 402
    assert client.get(signed_portrait_url(portrait, "preview")).status_code == 200

    buy(client, finished_job)
    purchase = Purchase.objects.get(job=finished_job.job)
    # Back from Checkout before the webhook: still locked, and the page says it is being confirmed.
    returned = client.get(f"/purchases/{purchase.id}/return/", follow=True)
    assert "Stripe is confirming the payment" in returned.content.decode()
    assert job_status(client, finished_job)["portraits"][0]["download_url"] is None

    response = post_event(client, event_payload("checkout.session.completed", completed_session(purchase)))
    assert response.status_code == 200
    assert response.json()["outcome"] == "delivered"

    purchase.refresh_from_db()
    assert purchase.status == PurchaseStatus.PAID
    assert purchase.paid_at is not None and purchase.keep_until is not None
    assert purchase.email_sha256 and "buyer" not in purchase.email_sha256
    urls = [p["download_url"] for p in job_status(client, finished_job)["portraits"]]
    assert all(urls)
    download = client.get(urls[0].replace("http://testserver", ""))
    assert download.status_code == 200
    assert download.content == finished_job.full_bytes[0]
    page = client.get(f"/jobs/{finished_job.job.id}/").content.decode()
    assert "Full resolution bought" in page
    assert str(purchase.id) in page
    assert 'id="buy-full-resolution"' not in page
    assert AuditEvent.objects.filter(action="purchase.paid", object_id=str(purchase.id)).exists()


def test_it_delivers_when_the_webhook_arrives_before_the_buyer_returns(
    client: Any, payments_on: FakeHostedGateway, finished_job: FinishedJob
) -> None:
    holder(client, finished_job)
    buy(client, finished_job)
    purchase = Purchase.objects.get(job=finished_job.job)
    post_event(client, event_payload("checkout.session.completed", completed_session(purchase)))

    returned = client.get(f"/purchases/{purchase.id}/return/")
    assert returned.status_code == 302
    assert returned["Location"] == f"/jobs/{finished_job.job.id}/"
    page = client.get(returned["Location"]).content.decode()
    assert "Full resolution bought" in page


def test_it_does_not_show_the_job_to_a_browser_that_only_knows_the_purchase(
    client: Any, payments_on: FakeHostedGateway, finished_job: FinishedJob, django_user_model: Any
) -> None:
    from django.test import Client

    holder(client, finished_job)
    buy(client, finished_job)
    purchase = Purchase.objects.get(job=finished_job.job)
    post_event(client, event_payload("checkout.session.completed", completed_session(purchase)))

    other = Client()
    response = other.get(f"/purchases/{purchase.id}/return/")
    assert response.status_code == 200
    assert str(finished_job.job.id) not in response.content.decode()
    assert "Payment received" in response.content.decode()
    assert other.post(f"/jobs/{finished_job.job.id}/buy/").status_code == 404


def test_it_refuses_a_second_purchase_of_a_bought_job(
    client: Any, payments_on: FakeHostedGateway, finished_job: FinishedJob
) -> None:
    holder(client, finished_job)
    buy(client, finished_job)
    purchase = Purchase.objects.get(job=finished_job.job)
    post_event(client, event_payload("checkout.session.completed", completed_session(purchase)))

    again = buy(client, finished_job)
    assert again.status_code == 409
    assert "already bought" in again.content.decode()
    assert len(payments_on.checkout_calls) == 1


def test_it_says_so_when_stripe_cannot_be_reached(
    client: Any, payments_on: FakeHostedGateway, finished_job: FinishedJob
) -> None:
    payments_on.fail_checkout = True
    response = buy(holder(client, finished_job), finished_job)
    assert response.status_code == 503
    assert "Nothing was charged" in response.content.decode()
    assert Purchase.objects.get(job=finished_job.job).status == PurchaseStatus.ABANDONED
