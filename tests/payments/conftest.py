"""Payments switched on with test keys, a gateway whose hosted sessions are faked, signed events,
finished jobs without running the generator, and a real localstripe server on 127.0.0.1."""

from __future__ import annotations

import io
import json
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import stripe
from django.utils import timezone
from PIL import Image

from gpu_worker.styles import get_style, style_to_dict
from portraits import crypto, storage
from portraits.models import DataKeyPurpose, JobStatus, Portrait, PortraitJob
from portraits.payments import stripe_gateway
from portraits.payments.stripe_gateway import HostedSession, StripeGateway
from portraits.services import hash_token, result_object_key
from tests.support import REPO

WEBHOOK_SECRET = "whsec_test_" + "w" * 24
WEBHOOK_URL = "/payments/stripe/webhook/"


class FakeHostedGateway(StripeGateway):
    """The real gateway, except Checkout and portal sessions (localstripe has neither).

    Refunds and payment intents go to the real gateway when `real_payments` is set (tests that
    run localstripe); otherwise they are recorded.
    """

    def __init__(self) -> None:
        self.checkout_calls: list[dict[str, Any]] = []
        self.portal_calls: list[dict[str, Any]] = []
        self.refunds: list[str] = []
        self.real_payments = False
        self.fail_checkout = False

    def create_checkout_session(self, params: dict[str, Any], *, idempotency_key: str) -> HostedSession:
        if self.fail_checkout:
            raise stripe_gateway.GatewayError("Stripe is down")
        self.checkout_calls.append({"params": params, "idempotency_key": idempotency_key})
        session_id = "cs_test_" + secrets.token_hex(12)
        return HostedSession(id=session_id, url=f"https://checkout.stripe.com/c/pay/{session_id}")

    def create_portal_session(self, *, customer_id: str, return_url: str) -> HostedSession:
        self.portal_calls.append({"customer": customer_id, "return_url": return_url})
        return HostedSession(id="bps_test", url="https://billing.stripe.com/p/session/test_" + customer_id)

    def refund_payment(self, payment_intent_id: str, *, idempotency_key: str) -> str:
        if self.real_payments:
            return super().refund_payment(payment_intent_id, idempotency_key=idempotency_key)
        self.refunds.append(payment_intent_id)
        return "re_fake"

    def payment_intent_purchase_id(self, payment_intent_id: str) -> str:
        if self.real_payments:
            return super().payment_intent_purchase_id(payment_intent_id)
        return ""


@pytest.fixture
def payments_on(settings: Any) -> Iterator[FakeHostedGateway]:
    settings.STRIPE_SECRET_KEY = "sk_test_" + "k" * 24
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.PROPORTRAIT_PAYMENTS_ENABLED = True
    settings.PROPORTRAIT_FULL_RESOLUTION_PRICE_CENTS = 900
    settings.PROPORTRAIT_CURRENCY = "eur"
    settings.STRIPE_TEAM_SEAT_PRICE_ID = "plan_team_seat"
    fake = FakeHostedGateway()
    previous = stripe_gateway.use_gateway(fake)
    yield fake
    stripe_gateway.use_gateway(previous)


def tiny_jpeg(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 64), colour).save(buffer, "JPEG")
    return buffer.getvalue()


@dataclass
class FinishedJob:
    job: PortraitJob
    token: str
    full_bytes: dict[int, bytes] = field(default_factory=dict)


def make_finished_job(*, expires_in: timedelta = timedelta(hours=24), variants: int = 2) -> FinishedJob:
    """A done job with encrypted portraits in storage, as complete_job leaves it (no generator run)."""
    token = secrets.token_urlsafe(24)
    data_key, raw_key = crypto.create_data_key(DataKeyPurpose.RESULTS)
    now = timezone.now()
    job = PortraitJob.objects.create(
        status=JobStatus.DONE,
        progress=100,
        token_hash=hash_token(token),
        style_slug="corporate-grey",
        style_spec=style_to_dict(get_style("corporate-grey")),
        variants=variants,
        results_key=data_key,
        original_deleted_at=now,
        finished_at=now,
        expires_at=now + expires_in,
    )
    made = FinishedJob(job=job, token=token)
    for variant in range(variants):
        full, preview = tiny_jpeg((20 + variant, 90, 160)), tiny_jpeg((200, 200, 200))
        aad = f"{job.id}:{variant}".encode()
        full_key = result_object_key(job.id, variant, "full")
        preview_key = result_object_key(job.id, variant, "preview")
        storage.put_object(full_key, crypto.encrypt(raw_key, full, aad + b":full"))
        storage.put_object(preview_key, crypto.encrypt(raw_key, preview, aad + b":preview"))
        Portrait.objects.create(
            job=job,
            variant=variant,
            width=48,
            height=64,
            full_format="jpeg",
            full_storage_key=full_key,
            preview_storage_key=preview_key,
            preview_width=48,
            preview_height=64,
        )
        made.full_bytes[variant] = full
    return made


@pytest.fixture
def finished_job(db: Any) -> FinishedJob:
    return make_finished_job()


def event_payload(event_type: str, obj: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id or "evt_" + secrets.token_hex(12),
        "object": "event",
        "api_version": stripe.api_version,
        "created": int(time.time()),
        "livemode": False,
        "type": event_type,
        "data": {"object": obj},
    }


def post_event(
    client: Any, event: dict[str, Any], *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None
) -> Any:
    """POST an event signed exactly as Stripe signs it, with the SDK's own signer."""
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(
        payload, secret, timestamp=timestamp or int(time.time())
    )
    return client.post(
        WEBHOOK_URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )


def completed_session(
    purchase: Any,
    *,
    payment_status: str = "paid",
    payment_intent: str | None = None,
    email: str = "buyer@example.com",
) -> dict[str, Any]:
    return {
        "id": purchase.checkout_session_id,
        "object": "checkout.session",
        "mode": "payment",
        "payment_status": payment_status,
        "status": "complete",
        "client_reference_id": str(purchase.id),
        "metadata": {"purchase_id": str(purchase.id)},
        "payment_intent": payment_intent or "pi_" + secrets.token_hex(8),
        "amount_total": purchase.amount_cents,
        "currency": purchase.currency,
        "total_details": {"amount_tax": 0},
        "customer_details": {"email": email},
    }


# --- A real localstripe server on 127.0.0.1, started and stopped by the test run.


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def localstripe_url() -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.payments.localstripe_server", str(port)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("localstripe did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def localstripe(localstripe_url: str, payments_on: FakeHostedGateway, settings: Any) -> FakeHostedGateway:
    """Payments on, talking to localstripe for everything but hosted sessions."""
    settings.STRIPE_API_BASE = localstripe_url
    payments_on.real_payments = True
    return payments_on


def stripe_client(settings: Any) -> stripe.StripeClient:
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, base_addresses={"api": settings.STRIPE_API_BASE})


def paid_payment_intent(settings: Any, purchase_id: str, amount_cents: int = 900) -> str:
    """A card payment that succeeded in localstripe, carrying our purchase id as Checkout would set it."""
    client = stripe_client(settings)
    card = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}
    method = client.v1.payment_methods.create({"type": "card", "card": card})  # type: ignore[typeddict-item]
    intent = client.v1.payment_intents.create(
        {
            "amount": amount_cents,
            "currency": "eur",
            "payment_method": method.id,
            "confirm": True,
            "metadata": {"purchase_id": purchase_id},
        }
    )
    assert intent.status == "succeeded"
    return str(intent.id)


def refunds_of(settings: Any, payment_intent_id: str) -> list[Any]:
    client = stripe_client(settings)
    return [
        r for r in client.v1.refunds.list().data if r.to_dict().get("payment_intent") == payment_intent_id
    ]


def ensure_seat_plan(settings: Any) -> str:
    """The team seat as a legacy Plan in localstripe (it has no Prices); Checkout would use its id."""
    client = stripe_client(settings)
    try:
        client.v1.plans.retrieve("plan_team_seat")
    except stripe.InvalidRequestError:
        product = client.v1.products.create({"name": "ProPortrait team seat"})
        client.v1.plans.create(
            {
                "id": "plan_team_seat",
                "amount": 1200,
                "currency": "eur",
                "interval": "month",
                "product": product.id,
            }
        )
    return "plan_team_seat"


def subscribe_in_localstripe(settings: Any, *, seats: int, reference: str) -> tuple[str, str]:
    """What Stripe does when an admin completes subscription Checkout: a customer and a paid subscription."""
    client = stripe_client(settings)
    plan = ensure_seat_plan(settings)
    card = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}
    method = client.v1.payment_methods.create({"type": "card", "card": card})  # type: ignore[typeddict-item]
    customer = client.v1.customers.create(
        {
            "email": "billing@example.com",
            "payment_method": method.id,
            "invoice_settings": {"default_payment_method": method.id},
        }
    )
    subscription = client.v1.subscriptions.create(
        {
            "customer": customer.id,
            "items": [{"plan": plan, "quantity": seats}],  # type: ignore[typeddict-item]
            "metadata": {"team_subscription_id": reference},
        }
    )
    assert subscription.status == "active"
    return str(customer.id), str(subscription.id)


def subscription_session(reference: str, customer_id: str, subscription_id: str) -> dict[str, Any]:
    return {
        "id": "cs_test_team_" + secrets.token_hex(6),
        "object": "checkout.session",
        "mode": "subscription",
        "status": "complete",
        "payment_status": "paid",
        "client_reference_id": reference,
        "metadata": {"team_subscription_id": reference},
        "customer": customer_id,
        "subscription": subscription_id,
    }
