"""localstripe's own signed webhooks, delivered to our running server at the URL registered
through its /_config/webhooks/{id}: our endpoint verifies them with the SDK and acts on them."""

from __future__ import annotations

import urllib.parse
import urllib.request
from typing import Any

import pytest

from accounts.models import SubscriptionStatus, TeamSubscription
from accounts.tests.conftest import make_team
from portraits.models import StripeEvent
from tests.payments.conftest import (
    WEBHOOK_SECRET,
    WEBHOOK_URL,
    FakeHostedGateway,
    stripe_client,
    subscribe_in_localstripe,
)
from tests.support import wait_for

# serialized_rollback, as the browser tests: a flushed database without the migrations' rows
# (consent documents, registers) would otherwise break the tests that follow.
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def register_webhook(localstripe_url: str, url: str, events: list[str]) -> None:
    fields = {"url": url, "secret": WEBHOOK_SECRET, "events[]": events}
    body = urllib.parse.urlencode(fields, doseq=True).encode()
    address = f"{localstripe_url}/_config/webhooks/proportrait-test"  # loopback test server
    request = urllib.request.Request(address, data=body)  # noqa: S310
    urllib.request.urlopen(request, timeout=5).close()  # noqa: S310


def test_a_cancellation_at_stripe_reaches_us_as_a_signed_webhook(
    live_server: Any,
    localstripe_url: str,
    localstripe: FakeHostedGateway,
    settings: Any,
) -> None:
    team = make_team("acme", "Acme & Co")
    record = TeamSubscription.objects.create(
        organisation=team.organisation, status=SubscriptionStatus.CHECKOUT
    )
    customer_id, subscription_id = subscribe_in_localstripe(settings, seats=3, reference=str(record.id))
    TeamSubscription.objects.filter(pk=record.pk).update(
        stripe_customer_id=customer_id,
        stripe_subscription_id=subscription_id,
        status=SubscriptionStatus.ACTIVE,
        seats=3,
    )
    register_webhook(localstripe_url, live_server.url + WEBHOOK_URL, ["customer.subscription.deleted"])

    stripe_client(settings).v1.subscriptions.cancel(subscription_id)

    assert wait_for(
        lambda: TeamSubscription.objects.get(pk=record.pk).status == SubscriptionStatus.CANCELED, timeout=20
    ), "localstripe's webhook did not reach the endpoint"
    # Cancellations of other tests' subscriptions may arrive too; they are not ours and change nothing.
    (event,) = StripeEvent.objects.filter(type="customer.subscription.deleted", outcome="team_canceled")
    assert event.event_id.startswith("evt_")
