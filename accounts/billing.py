"""Team plans: an organisation buys seats as a Stripe subscription (quantity = seats).

The admin starts the plan on Stripe's hosted Checkout, changes seats here, and manages cards
and invoices (or cancels) in Stripe's customer portal. Our record follows Stripe: every
subscription or invoice event makes us fetch the subscription and copy its state, so events
arriving late, twice or out of order cannot leave a stale state behind. Seats limit
invitations (accounts.teams.invite_member) while payments are on.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from accounts.models import Organisation, SubscriptionStatus, TeamSubscription, User
from compliance.audit import record_event
from portraits.payments import pricing
from portraits.payments.stripe_gateway import (
    CHECKOUT_ORIGIN,
    GatewayError,
    HostedSession,
    SubscriptionState,
    gateway,
)

logger = logging.getLogger(__name__)


class BillingError(Exception):
    """A billing action refused; the message says why, in words for the admin."""


def _actor(user: User | None) -> str:
    return f"user:{user.pk}" if user is not None else "system"


def team_subscription(organisation: Organisation) -> TeamSubscription | None:
    return TeamSubscription.objects.filter(organisation=organisation).first()


def seat_limit(organisation: Organisation) -> int:
    """How many seats (members + open invitations) the organisation may fill.

    Free mode: the organisation's own setting. With payments on: the quantity of a live
    subscription (active, trialing, or past due while Stripe retries), else none.
    """
    if not pricing.payments_enabled():
        return int(organisation.seats)
    subscription = team_subscription(organisation)
    if subscription is None or not subscription.grants_seats:
        return 0
    return int(subscription.seats)


def seat_limit_message(organisation: Organisation) -> str:
    limit = seat_limit(organisation)
    if not pricing.payments_enabled():
        return f"All {limit} seats are taken."
    if limit == 0:
        return "Your organisation has no active team plan: start one on the Billing page to invite people."
    return f"All {limit} seats are taken. Add seats on the Billing page."


def _billing_url(organisation: Organisation) -> str:
    return settings.SITE_URL + reverse("accounts:org_billing", args=[organisation.slug])


def start_team_plan(organisation: Organisation, *, seats: int, actor: User) -> HostedSession:
    """Send the admin to Stripe Checkout for a subscription of `seats` seats.

    Stripe receives our subscription record's id, the seat count and the admin's e-mail as the
    billing contact; nothing about members or their portraits.
    """
    from accounts.teams import seats_used

    # 1. Checks that store nothing.
    if not pricing.payments_enabled():
        raise BillingError("Payments are off on this site: teams are free here.")
    if not settings.STRIPE_TEAM_SEAT_PRICE_ID:
        raise BillingError("Team plans are not on sale yet (no seat price is configured).")
    used = seats_used(organisation)
    if seats < max(1, used):
        raise BillingError(f"Choose at least {max(1, used)} seats: that many are in use or invited.")
    existing = team_subscription(organisation)
    if existing is not None and existing.grants_seats:
        raise BillingError("Your organisation already has a team plan; change its seats instead.")

    # 2. Our record, then the outside call.
    subscription, _ = TeamSubscription.objects.get_or_create(organisation=organisation)
    reference = str(subscription.id)
    params: dict[str, Any] = {
        "mode": "subscription",
        "line_items": [{"price": settings.STRIPE_TEAM_SEAT_PRICE_ID, "quantity": seats}],
        "client_reference_id": reference,
        "metadata": {"team_subscription_id": reference},
        "subscription_data": {"metadata": {"team_subscription_id": reference}},
        "success_url": _billing_url(organisation),
        "cancel_url": _billing_url(organisation),
    }
    if subscription.stripe_customer_id:
        params["customer"] = subscription.stripe_customer_id
    else:
        params["customer_email"] = actor.email
    if settings.STRIPE_AUTOMATIC_TAX:
        params["automatic_tax"] = {"enabled": True}
    session = gateway().create_checkout_session(
        params, idempotency_key=f"team-{reference}-{seats}-{uuid.uuid4().hex[:8]}"
    )
    if not session.url.startswith(CHECKOUT_ORIGIN + "/"):
        raise GatewayError("Checkout Session URL is not on Stripe's Checkout origin.")
    TeamSubscription.objects.filter(pk=subscription.pk).update(status=SubscriptionStatus.CHECKOUT)
    record_event(
        "team_plan.checkout_started",
        actor=_actor(actor),
        object_type="organisation",
        object_id=str(organisation.pk),
        data={"seats": seats},
    )
    return session


def _apply(subscription: TeamSubscription, state: SubscriptionState) -> None:
    """Copy Stripe's subscription state onto our record and the organisation's seat count."""
    status = state.status if state.status in SubscriptionStatus.values else SubscriptionStatus.UNPAID
    subscription.status = status
    subscription.seats = state.quantity
    subscription.stripe_subscription_id = state.id
    subscription.stripe_customer_id = state.customer_id or subscription.stripe_customer_id
    subscription.cancel_at_period_end = state.cancel_at_period_end
    subscription.current_period_end = (
        datetime.fromtimestamp(state.current_period_end, tz=UTC) if state.current_period_end else None
    )
    subscription.save()
    if subscription.grants_seats and state.quantity > 0:
        # The dashboard's "N of M seats" reads the organisation; keep it equal to what is paid for.
        Organisation.objects.filter(pk=subscription.organisation_id).update(seats=state.quantity)


def _locked(**lookup: Any) -> TeamSubscription | None:
    return TeamSubscription.objects.select_for_update().filter(**lookup).first()


def _sync(subscription: TeamSubscription, event: dict[str, Any]) -> str:
    state = gateway().retrieve_subscription(subscription.stripe_subscription_id)
    before = (subscription.status, subscription.seats, subscription.cancel_at_period_end)
    _apply(subscription, state)
    record_event(
        "team_plan.synced",
        actor="stripe",
        object_type="organisation",
        object_id=str(subscription.organisation_id),
        data={
            "event": str(event.get("id")),
            "type": str(event.get("type")),
            "status": subscription.status,
            "seats": subscription.seats,
            "changed": before != (subscription.status, subscription.seats, subscription.cancel_at_period_end),
        },
    )
    return f"team_{subscription.status}"


# --- Webhook handlers (registered in accounts.apps). None: not a team plan of ours.


def handle_team_checkout_completed(event: dict[str, Any]) -> str | None:
    session = event["data"]["object"]
    if session.get("mode") != "subscription":
        return None
    reference = str((session.get("metadata") or {}).get("team_subscription_id") or "")
    try:
        subscription = _locked(id=uuid.UUID(reference))
    except ValueError:
        subscription = None
    if subscription is None:
        logger.warning("Stripe team checkout for unknown subscription record %r", reference)
        return "unknown_team_subscription"
    subscription.stripe_subscription_id = str(session.get("subscription") or "")
    subscription.stripe_customer_id = str(session.get("customer") or "")
    if not subscription.stripe_subscription_id:
        return "no_subscription_yet"
    return _sync(subscription, event)


def _subscription_id_of(obj: dict[str, Any]) -> str:
    if obj.get("object") == "subscription":
        return str(obj.get("id") or "")
    # Invoices: `subscription` in older API versions, parent.subscription_details in newer ones.
    found = obj.get("subscription") or (
        ((obj.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    )
    return str(found or "")


def handle_subscription_event(event: dict[str, Any]) -> str | None:
    """customer.subscription.* and invoice.*: fetch the subscription from Stripe and copy it."""
    obj = event["data"]["object"]
    subscription_id = _subscription_id_of(obj)
    if not subscription_id:
        return None
    subscription = _locked(stripe_subscription_id=subscription_id)
    if subscription is None:
        reference = str((obj.get("metadata") or {}).get("team_subscription_id") or "")
        try:
            subscription = _locked(id=uuid.UUID(reference)) if reference else None
        except ValueError:
            subscription = None
        if subscription is None:
            return None
        subscription.stripe_subscription_id = subscription_id
    if obj.get("object") == "invoice":
        paid = event.get("type") in {"invoice.paid", "invoice.payment_succeeded"}
        subscription.last_invoice_status = "paid" if paid else "payment_failed"
        subscription.last_invoice_at = datetime.fromtimestamp(int(event.get("created") or 0), tz=UTC)
    return _sync(subscription, event)


# --- Admin actions.


def _live_subscription(organisation: Organisation) -> TeamSubscription:
    subscription = team_subscription(organisation)
    if subscription is None or not subscription.stripe_subscription_id or not subscription.grants_seats:
        raise BillingError("Your organisation has no active team plan.")
    return subscription


def change_seats(organisation: Organisation, *, seats: int, actor: User) -> TeamSubscription:
    """Ask Stripe for a new seat count (billed pro rata); never fewer than are in use."""
    from accounts.teams import seats_used

    subscription = _live_subscription(organisation)
    used = seats_used(organisation)
    if seats < max(1, used):
        raise BillingError(
            f"You use {used} seats (members and open invitations): remove people before going below that."
        )
    state = gateway().retrieve_subscription(subscription.stripe_subscription_id)
    updated = gateway().update_subscription_quantity(state, seats)
    with transaction.atomic():
        subscription = _locked(pk=subscription.pk) or subscription
        _apply(subscription, updated)
        record_event(
            "team_plan.seats_changed",
            actor=_actor(actor),
            object_type="organisation",
            object_id=str(organisation.pk),
            data={"from": state.quantity, "to": updated.quantity},
        )
    return subscription


def cancel_team_plan(organisation: Organisation, *, actor: User) -> TeamSubscription:
    """Cancel at the end of the paid period; seats stay usable until then."""
    subscription = _live_subscription(organisation)
    updated = gateway().cancel_subscription_at_period_end(subscription.stripe_subscription_id)
    with transaction.atomic():
        subscription = _locked(pk=subscription.pk) or subscription
        _apply(subscription, updated)
        record_event(
            "team_plan.cancel_requested",
            actor=_actor(actor),
            object_type="organisation",
            object_id=str(organisation.pk),
        )
    return subscription


def portal_session(organisation: Organisation) -> HostedSession:
    """Stripe's customer portal for this organisation: cards, invoices, cancellation."""
    subscription = team_subscription(organisation)
    if subscription is None or not subscription.stripe_customer_id:
        raise BillingError("Your organisation has no billing account with Stripe yet.")
    return gateway().create_portal_session(
        customer_id=subscription.stripe_customer_id, return_url=_billing_url(organisation)
    )


def end_team_plan_now(organisation: Organisation) -> bool:
    """Organisation deleted: stop billing at once (Stripe keeps the invoices already issued)."""
    subscription = team_subscription(organisation)
    if subscription is None or not subscription.stripe_subscription_id:
        return False
    if subscription.status == SubscriptionStatus.CANCELED:
        return False
    gateway().cancel_subscription_now(subscription.stripe_subscription_id)
    return True


def register_team_billing_handlers() -> None:
    from portraits.payments.webhooks import register_event_handler

    register_event_handler("checkout.session.completed", handle_team_checkout_completed)
    for event_type in (
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.paused",
        "customer.subscription.resumed",
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice.payment_failed",
    ):
        register_event_handler(event_type, handle_subscription_event)
