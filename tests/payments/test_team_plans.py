"""Team plans against a real localstripe server: checkout, seats that limit invitations, seat
changes, changes made in Stripe's portal, cancellation, and the state following webhooks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from accounts import teams
from accounts.models import Invitation, SubscriptionStatus, TeamSubscription
from accounts.tests.conftest import Team, make_team, verified_client
from tests.payments.conftest import (
    FakeHostedGateway,
    event_payload,
    post_event,
    stripe_client,
    subscribe_in_localstripe,
    subscription_session,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(db: Any) -> Team:
    return make_team("acme", "Acme & Co")  # owner, admin and member: three seats in use


def start_plan(team: Team, seats: int) -> tuple[Any, TeamSubscription]:
    client = verified_client(team.admin)
    response = client.post("/accounts/orgs/acme/billing/", {"seats": seats})
    return response, TeamSubscription.objects.get(organisation=team.organisation)


def active_plan(client: Any, team: Team, settings: Any, seats: int) -> TeamSubscription:
    _, record = start_plan(team, seats)
    customer_id, subscription_id = subscribe_in_localstripe(settings, seats=seats, reference=str(record.id))
    session = subscription_session(str(record.id), customer_id, subscription_id)
    outcome = post_event(client, event_payload("checkout.session.completed", session)).json()["outcome"]
    assert outcome == "team_active"
    record.refresh_from_db()
    return record


def invite(team: Team, email: str) -> Any:
    client = verified_client(team.admin)
    return client.post("/accounts/orgs/acme/invite/", {"email": email, "role": "member"}, follow=True)


def test_the_admin_is_sent_to_stripe_checkout_for_seats(localstripe: FakeHostedGateway, team: Team) -> None:
    response, record = start_plan(team, 5)
    assert response.status_code == 303
    assert response["Location"].startswith("https://checkout.stripe.com/")
    assert record.status == SubscriptionStatus.CHECKOUT
    (call,) = localstripe.checkout_calls
    params = call["params"]
    assert params["mode"] == "subscription"
    assert params["line_items"] == [{"price": "plan_team_seat", "quantity": 5}]
    assert params["metadata"] == {"team_subscription_id": str(record.id)}
    assert params["subscription_data"]["metadata"] == {"team_subscription_id": str(record.id)}
    assert params["customer_email"] == team.admin.email
    sent = json.dumps(params)
    assert team.member.email not in sent and team.organisation.name not in sent


def test_it_refuses_fewer_seats_than_are_in_use(localstripe: FakeHostedGateway, team: Team) -> None:
    response = verified_client(team.admin).post("/accounts/orgs/acme/billing/", {"seats": 2})
    assert response.status_code == 400
    assert not TeamSubscription.objects.exists()
    assert "Choose at least 3 seats" in response.content.decode()
    assert localstripe.checkout_calls == []


def test_without_a_plan_nobody_can_be_invited(localstripe: FakeHostedGateway, team: Team) -> None:
    response = invite(team, "new@example.com")
    assert "no active team plan" in response.content.decode()
    assert not Invitation.objects.exists()


def test_seats_paid_for_limit_invitations(
    client: Any, localstripe: FakeHostedGateway, team: Team, settings: Any
) -> None:
    record = active_plan(client, team, settings, seats=4)
    assert record.status == SubscriptionStatus.ACTIVE
    assert record.seats == 4
    assert record.stripe_customer_id.startswith("cus_")
    assert record.current_period_end is not None
    team.organisation.refresh_from_db()
    assert team.organisation.seats == 4

    invite(team, "fourth@example.com")
    assert Invitation.objects.filter(email="fourth@example.com").exists()
    refused = invite(team, "fifth@example.com")
    assert "All 4 seats are taken. Add seats on the Billing page." in refused.content.decode()
    assert not Invitation.objects.filter(email="fifth@example.com").exists()

    page = verified_client(team.admin).get("/accounts/orgs/acme/billing/").content.decode()
    assert "4 seats, 4 in use" in page


def test_the_admin_changes_seats_and_stripe_bills_them(
    client: Any, localstripe: FakeHostedGateway, team: Team, settings: Any
) -> None:
    record = active_plan(client, team, settings, seats=3)
    admin = verified_client(team.admin)
    admin.post("/accounts/orgs/acme/billing/seats/", {"seats": 6})
    remote = stripe_client(settings).v1.subscriptions.retrieve(record.stripe_subscription_id).to_dict()
    assert remote["items"]["data"][0]["quantity"] == 6
    record.refresh_from_db()
    assert record.seats == 6
    invite(team, "fourth@example.com")
    assert Invitation.objects.filter(email="fourth@example.com").exists()

    # Four seats are in use now: going down to three is refused, and nothing changes at Stripe.
    response = admin.post("/accounts/orgs/acme/billing/seats/", {"seats": 3}, follow=True)
    assert "You use 4 seats" in response.content.decode()
    remote = stripe_client(settings).v1.subscriptions.retrieve(record.stripe_subscription_id).to_dict()
    assert remote["items"]["data"][0]["quantity"] == 6


def test_a_change_made_in_stripe_arrives_by_webhook_in_any_order(
    client: Any, localstripe: FakeHostedGateway, team: Team, settings: Any
) -> None:
    record = active_plan(client, team, settings, seats=3)
    stripe = stripe_client(settings)
    remote = stripe.v1.subscriptions.retrieve(record.stripe_subscription_id).to_dict()
    item = remote["items"]["data"][0]["id"]
    # The admin adds seats in Stripe's portal: Stripe changes the subscription, then tells us.
    stripe.v1.subscriptions.update(record.stripe_subscription_id, {"items": [{"id": item, "quantity": 8}]})
    stale = event_payload("customer.subscription.updated", dict(remote, quantity=3))
    fresh = event_payload(
        "customer.subscription.updated",
        stripe.v1.subscriptions.retrieve(record.stripe_subscription_id).to_dict(),
    )

    # The newer event first, then the older one: the older one cannot roll the seats back,
    # because every event makes us read the subscription as Stripe holds it now.
    assert post_event(client, fresh).json()["outcome"] == "team_active"
    assert post_event(client, stale).json()["outcome"] == "team_active"
    record.refresh_from_db()
    assert record.seats == 8
    assert post_event(client, stale).json()["outcome"] == "duplicate"


def test_an_invoice_event_updates_the_plan(
    client: Any, localstripe: FakeHostedGateway, team: Team, settings: Any
) -> None:
    record = active_plan(client, team, settings, seats=3)
    invoice = {
        "id": "in_1",
        "object": "invoice",
        "subscription": record.stripe_subscription_id,
        "status": "open",
    }
    assert (
        post_event(client, event_payload("invoice.payment_failed", invoice)).json()["outcome"]
        == "team_active"
    )
    record.refresh_from_db()
    assert record.last_invoice_status == "payment_failed"
    # Newer API versions name the subscription under parent.subscription_details.
    newer = {
        "id": "in_2",
        "object": "invoice",
        "parent": {"subscription_details": {"subscription": record.stripe_subscription_id}},
    }
    assert post_event(client, event_payload("invoice.paid", newer)).json()["outcome"] == "team_active"
    record.refresh_from_db()
    assert record.last_invoice_status == "paid"


def test_cancelling_keeps_seats_until_the_period_ends_then_closes_invitations(
    client: Any, localstripe: FakeHostedGateway, team: Team, settings: Any
) -> None:
    record = active_plan(client, team, settings, seats=5)
    admin = verified_client(team.admin)
    page = admin.post("/accounts/orgs/acme/billing/cancel/", follow=True).content.decode()
    assert "ends at the end of the paid period" in page
    record.refresh_from_db()
    assert record.cancel_at_period_end and record.status == SubscriptionStatus.ACTIVE
    remote = stripe_client(settings).v1.subscriptions.retrieve(record.stripe_subscription_id).to_dict()
    assert remote["cancel_at_period_end"] is True
    invite(team, "still-ok@example.com")
    assert Invitation.objects.filter(email="still-ok@example.com").exists()

    # The period ends: Stripe cancels the subscription and sends customer.subscription.deleted.
    ended = stripe_client(settings).v1.subscriptions.cancel(record.stripe_subscription_id).to_dict()
    outcome = post_event(client, event_payload("customer.subscription.deleted", ended)).json()["outcome"]
    assert outcome == "team_canceled"
    record.refresh_from_db()
    assert record.status == SubscriptionStatus.CANCELED
    assert "no active team plan" in invite(team, "too-late@example.com").content.decode()
    assert "Your team plan has ended" in admin.get("/accounts/orgs/acme/billing/").content.decode()


def test_the_customer_portal_is_a_link_to_stripe(
    client: Any, localstripe: FakeHostedGateway, team: Team, settings: Any
) -> None:
    record = active_plan(client, team, settings, seats=3)
    response = verified_client(team.admin).get("/accounts/orgs/acme/billing/portal/")
    assert response.status_code == 303
    assert response["Location"].startswith("https://billing.stripe.com/")
    assert localstripe.portal_calls == [
        {
            "customer": record.stripe_customer_id,
            "return_url": "http://127.0.0.1:8000/accounts/orgs/acme/billing/",
        }
    ]
    # Members and outsiders cannot open it.
    assert verified_client(team.member).get("/accounts/orgs/acme/billing/portal/").status_code == 404


def test_deleting_the_organisation_stops_billing(
    client: Any, localstripe: FakeHostedGateway, team: Team, settings: Any
) -> None:
    record = active_plan(client, team, settings, seats=3)
    teams.delete_organisation(team.organisation, actor=team.owner)
    remote = stripe_client(settings).v1.subscriptions.retrieve(record.stripe_subscription_id).to_dict()
    assert remote["status"] == "canceled"


def test_teams_are_free_without_stripe_keys(team: Team, settings: Any) -> None:
    settings.PROPORTRAIT_PAYMENTS_ENABLED = False
    page = verified_client(team.admin).get("/accounts/orgs/acme/billing/").content.decode()
    assert "Teams are free on this site" in page
    invite(team, "free@example.com")
    assert Invitation.objects.filter(email="free@example.com").exists()


def test_the_organisation_is_not_deleted_while_billing_cannot_be_stopped(
    client: Any, localstripe: FakeHostedGateway, team: Team, settings: Any
) -> None:
    from accounts.models import Organisation
    from accounts.tests.conftest import PASSWORD
    from portraits.payments.stripe_gateway import GatewayError

    active_plan(client, team, settings, seats=3)

    def unreachable(subscription_id: str) -> Any:
        raise GatewayError("connection refused")

    localstripe.cancel_subscription_now = unreachable  # type: ignore[method-assign]
    owner = verified_client(team.owner)
    response = owner.post("/accounts/orgs/acme/delete/", {"password": PASSWORD})
    assert response.status_code == 400
    assert "Stripe could not be reached" in response.content.decode()
    assert Organisation.objects.filter(pk=team.organisation.pk).exists()


def test_the_subscription_event_may_arrive_before_the_checkout_completion(
    client: Any, localstripe: FakeHostedGateway, team: Team, settings: Any
) -> None:
    _, record = start_plan(team, 4)
    customer_id, subscription_id = subscribe_in_localstripe(settings, seats=4, reference=str(record.id))
    created = stripe_client(settings).v1.subscriptions.retrieve(subscription_id).to_dict()
    # Found through our id in the subscription's metadata, before Checkout's own event.
    first = post_event(client, event_payload("customer.subscription.created", created))
    assert first.json()["outcome"] == "team_active"
    record.refresh_from_db()
    assert (record.status, record.seats, record.stripe_subscription_id) == ("active", 4, subscription_id)

    session = subscription_session(str(record.id), customer_id, subscription_id)
    assert post_event(client, event_payload("checkout.session.completed", session)).json()["outcome"] == (
        "team_active"
    )
    record.refresh_from_db()
    assert record.seats == 4 and record.stripe_customer_id == customer_id


def test_events_about_someone_else_s_subscription_change_nothing(
    client: Any, localstripe: FakeHostedGateway, team: Team
) -> None:
    foreign = {"id": "sub_not_ours", "object": "subscription", "status": "active", "metadata": {}}
    response = post_event(client, event_payload("customer.subscription.updated", foreign))
    assert response.json()["outcome"] == "ignored"
    unknown = subscription_session("5b0c1f7e-0000-4000-8000-000000000000", "cus_x", "sub_x")
    response = post_event(client, event_payload("checkout.session.completed", unknown))
    assert response.json()["outcome"] == "unknown_team_subscription"
    assert not TeamSubscription.objects.exists()
