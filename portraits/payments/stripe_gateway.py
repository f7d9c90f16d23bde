"""The one module that talks to Stripe (tests replace it with `use_gateway`).

Everything we send is listed here, so a reader can check the promise that Stripe never
receives the photo, the job token or anything derived from either: Checkout gets our purchase
id, an amount and a product name; subscriptions get an organisation's billing e-mail and a
seat count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import stripe
from django.conf import settings
from stripe._base_address import BaseAddresses

#: Stripe-hosted Checkout pages live here; the CSP's form-action names exactly this origin.
CHECKOUT_ORIGIN = "https://checkout.stripe.com"
#: The customer portal (cards, invoices, cancellation) lives here; reached by a link, not a form.
BILLING_PORTAL_ORIGIN = "https://billing.stripe.com"


class GatewayError(Exception):
    """Stripe refused the call or could not be reached; nothing was changed on our side."""


@dataclass(frozen=True)
class HostedSession:
    id: str
    url: str


@dataclass(frozen=True)
class SubscriptionState:
    """What we keep of a Stripe subscription: its status, seat count and billing period."""

    id: str
    customer_id: str
    status: str
    quantity: int
    item_id: str
    current_period_end: int | None
    cancel_at_period_end: bool
    metadata: dict[str, str] = field(default_factory=dict)


def _as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    return dict(value.to_dict()) if hasattr(value, "to_dict") else dict(value)


def subscription_state(raw: Any) -> SubscriptionState:
    data = _as_dict(raw)
    items = (data.get("items") or {}).get("data") or []
    item = items[0] if items else {}
    # API versions since 2025-03-31 keep the billing period on the item, older ones on the subscription.
    period_end = data.get("current_period_end") or item.get("current_period_end")
    return SubscriptionState(
        id=str(data["id"]),
        customer_id=str(data.get("customer") or ""),
        status=str(data.get("status") or ""),
        quantity=int(item.get("quantity") or data.get("quantity") or 0),
        item_id=str(item.get("id") or ""),
        current_period_end=int(period_end) if period_end else None,
        cancel_at_period_end=bool(data.get("cancel_at_period_end")),
        metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()},
    )


class StripeGateway:
    """Stripe through its official SDK (pinned v16). Every method raises GatewayError on failure."""

    def _client(self) -> stripe.StripeClient:
        if not settings.STRIPE_SECRET_KEY:
            raise GatewayError("Payments are off: STRIPE_SECRET_KEY is not set.")
        base: BaseAddresses | None = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
        return stripe.StripeClient(settings.STRIPE_SECRET_KEY, base_addresses=base, max_network_retries=2)

    # --- Checkout and the customer portal (hosted by Stripe; faked in tests).

    def create_checkout_session(self, params: dict[str, Any], *, idempotency_key: str) -> HostedSession:
        try:
            session = self._client().v1.checkout.sessions.create(
                params,  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as error:
            raise GatewayError(str(error)) from error
        return HostedSession(id=str(session.id), url=str(session.url))

    def create_portal_session(self, *, customer_id: str, return_url: str) -> HostedSession:
        try:
            session = self._client().v1.billing_portal.sessions.create(
                {"customer": customer_id, "return_url": return_url}
            )
        except stripe.StripeError as error:
            raise GatewayError(str(error)) from error
        return HostedSession(id=str(session.id), url=str(session.url))

    # --- Payments, customers and subscriptions.

    def refund_payment(self, payment_intent_id: str, *, idempotency_key: str) -> str:
        try:
            refund = self._client().v1.refunds.create(
                {"payment_intent": payment_intent_id}, {"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as error:
            raise GatewayError(str(error)) from error
        return str(refund.id)

    def payment_intent_purchase_id(self, payment_intent_id: str) -> str:
        """Our purchase id from a payment intent's metadata ("" when it is not a purchase)."""
        try:
            intent = self._client().v1.payment_intents.retrieve(payment_intent_id)
        except stripe.StripeError as error:
            raise GatewayError(str(error)) from error
        return str((_as_dict(intent).get("metadata") or {}).get("purchase_id") or "")

    def retrieve_subscription(self, subscription_id: str) -> SubscriptionState:
        try:
            subscription = self._client().v1.subscriptions.retrieve(subscription_id)
        except stripe.StripeError as error:
            raise GatewayError(str(error)) from error
        return subscription_state(subscription)

    def update_subscription_quantity(self, state: SubscriptionState, quantity: int) -> SubscriptionState:
        try:
            subscription = self._client().v1.subscriptions.update(
                state.id,
                # Stripe prorates by default (create_prorations): the change is billed pro rata.
                {"items": [{"id": state.item_id, "quantity": quantity}]},
            )
        except stripe.StripeError as error:
            raise GatewayError(str(error)) from error
        return subscription_state(subscription)

    def cancel_subscription_at_period_end(self, subscription_id: str) -> SubscriptionState:
        try:
            subscription = self._client().v1.subscriptions.update(
                subscription_id, {"cancel_at_period_end": True}
            )
        except stripe.StripeError as error:
            raise GatewayError(str(error)) from error
        return subscription_state(subscription)

    def cancel_subscription_now(self, subscription_id: str) -> SubscriptionState:
        try:
            subscription = self._client().v1.subscriptions.cancel(subscription_id)
        except stripe.StripeError as error:
            raise GatewayError(str(error)) from error
        return subscription_state(subscription)

    # --- Incoming events.

    def verify_event(self, payload: bytes, signature_header: str) -> dict[str, Any]:
        """The event if its Stripe-Signature is valid for STRIPE_WEBHOOK_SECRET and recent.

        Raises stripe.SignatureVerificationError or ValueError (not JSON), as the SDK does.
        """
        event = stripe.Webhook.construct_event(payload, signature_header, settings.STRIPE_WEBHOOK_SECRET)
        return _as_dict(event)


_gateway: StripeGateway = StripeGateway()


def gateway() -> StripeGateway:
    return _gateway


def use_gateway(replacement: StripeGateway) -> StripeGateway:
    """Install another gateway (tests: a fake for hosted sessions); returns the previous one."""
    global _gateway
    previous, _gateway = _gateway, replacement
    return previous
