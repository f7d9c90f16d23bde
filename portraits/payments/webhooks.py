"""The Stripe webhook endpoint: verify the signature, act once per event id, answer 200.

Handlers are registered per event type (purchases here, team billing from accounts); each
returns an outcome word, or None when the object is not its own. An event is recorded in the
same transaction as its effects, so a replay or a duplicate delivery finds it and does nothing,
and a handler that fails (Stripe unreachable for a refund) leaves nothing recorded: Stripe
retries the delivery.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import stripe
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from portraits.models import StripeEvent
from portraits.payments import pricing
from portraits.payments import services as purchases
from portraits.payments.stripe_gateway import GatewayError, gateway

logger = logging.getLogger(__name__)

EventHandler = Callable[[dict[str, Any]], "str | None"]
_HANDLERS: dict[str, list[EventHandler]] = {}


def register_event_handler(event_type: str, handler: EventHandler) -> None:
    """Called from an AppConfig.ready(); a handler must be idempotent and return None for others' objects."""
    handlers = _HANDLERS.setdefault(event_type, [])
    if handler not in handlers:
        handlers.append(handler)


def register_purchase_handlers() -> None:
    register_event_handler("checkout.session.completed", purchases.handle_checkout_completed)
    register_event_handler("checkout.session.async_payment_succeeded", purchases.handle_checkout_completed)
    register_event_handler("checkout.session.expired", purchases.handle_checkout_expired)
    register_event_handler("charge.refunded", purchases.handle_charge_refunded)
    register_event_handler("charge.dispute.created", purchases.handle_dispute_created)
    register_event_handler("charge.dispute.closed", purchases.handle_dispute_closed)


def process_event(event: dict[str, Any]) -> str:
    """Act on one verified event exactly once; returns what happened ("duplicate" for a replay)."""
    event_id = str(event.get("id") or "")
    event_type = str(event.get("type") or "")
    if not event_id or not event_type:
        raise ValueError("event without id or type")
    created = datetime.fromtimestamp(int(event.get("created") or 0), tz=UTC)
    with transaction.atomic():
        try:
            with transaction.atomic():
                StripeEvent.objects.create(event_id=event_id, type=event_type, created_at_stripe=created)
        except IntegrityError:
            return "duplicate"
        outcome = "ignored"
        for handler in _HANDLERS.get(event_type, []):
            result = handler(event)
            if result is not None:
                outcome = result
                break
        StripeEvent.objects.filter(event_id=event_id).update(outcome=outcome[:60])
    return outcome


@csrf_exempt  # Stripe cannot send our CSRF token; the signature authenticates the request instead.
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    if not pricing.payments_enabled():
        return JsonResponse({"error": {"code": "not_found", "message": "Payments are off."}}, status=404)
    signature = request.headers.get("Stripe-Signature", "")
    try:
        event = gateway().verify_event(request.body, signature)
    except (stripe.SignatureVerificationError, ValueError):
        return JsonResponse(
            {"error": {"code": "bad_signature", "message": "Signature missing, wrong or too old."}},
            status=400,
        )
    try:
        outcome = process_event(event)
    except GatewayError:
        logger.exception("Stripe event %s could not be handled; Stripe will retry", event.get("id"))
        return JsonResponse({"error": {"code": "retry", "message": "Try again later."}}, status=503)
    return JsonResponse({"received": True, "outcome": outcome})
