"""Buying full resolution in a real browser against a real gunicorn process with payments on:
no download before payment, Buy leads to Stripe's Checkout origin, a (simulated) signed paid
webhook unlocks the download. Also the reason form-action must name Stripe's Checkout origin:
the same Buy form under form-action 'self' alone is blocked by the browser.

Stripe's Checkout Session endpoint is played by a small local HTTP server (the real gateway and
SDK call it through STRIPE_API_BASE); the Checkout page itself is answered by Playwright.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import stripe

from portraits.models import Purchase, PurchaseStatus
from portraits.services import signed_portrait_url
from tests.browser.conftest import DESKTOP, PHONE
from tests.payments.conftest import WEBHOOK_SECRET, WEBHOOK_URL, make_finished_job

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CHECKOUT_PAGE = "<!doctype html><title>Stripe Checkout (test)</title><h1>Pay ProPortrait</h1>"


class FakeCheckoutApi(BaseHTTPRequestHandler):
    """POST /v1/checkout/sessions as Stripe answers it (localstripe has no Checkout Sessions)."""

    received: list[dict[str, list[str]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        FakeCheckoutApi.received.append(urllib.parse.parse_qs(body))
        session_id = f"cs_test_browser{len(FakeCheckoutApi.received)}"
        answer = {
            "id": session_id,
            "object": "checkout.session",
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
        }
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def fake_stripe_api() -> Iterator[str]:
    FakeCheckoutApi.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeCheckoutApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def stack_env(stack_env: dict[str, str], fake_stripe_api: str, settings: Any) -> dict[str, str]:
    """The web process with payments on (test keys), its Stripe API at the fake server."""
    settings.STRIPE_SECRET_KEY = "sk_test_browser_" + "k" * 16
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.PROPORTRAIT_PAYMENTS_ENABLED = True
    return {
        **stack_env,
        "STRIPE_SECRET_KEY": settings.STRIPE_SECRET_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": fake_stripe_api,
        "PROPORTRAIT_FULL_RESOLUTION_PRICE_CENTS": "900",
        "PROPORTRAIT_CURRENCY": "eur",
    }


def signed_post(url: str, event: dict[str, Any]) -> dict[str, Any]:
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(
        payload, WEBHOOK_SECRET, timestamp=int(time.time())
    )
    request = urllib.request.Request(  # noqa: S310 (loopback test server)
        url, data=payload.encode(), headers={"Content-Type": "application/json", "Stripe-Signature": header}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return dict(json.loads(response.read()))


def paid_event(purchase: Purchase) -> dict[str, Any]:
    return {
        "id": "evt_browser_paid",
        "object": "event",
        "type": "checkout.session.completed",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": purchase.checkout_session_id,
                "object": "checkout.session",
                "mode": "payment",
                "payment_status": "paid",
                "metadata": {"purchase_id": str(purchase.id)},
                "payment_intent": "pi_browser",
                "amount_total": 900,
                "customer_details": {"email": "buyer@example.com"},
            }
        },
    }


def test_buy_then_paid_webhook_unlocks_the_download_and_without_payment_it_is_refused(
    browser: Any, web_server: str, screenshot_dir: Path
) -> None:
    made = make_finished_job()
    portrait = made.job.portraits.get(variant=0)
    job_url = f"{web_server}/jobs/{made.job.id}/"
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    context.set_extra_http_headers({"X-Job-Token": made.token})
    checkout_visits: list[str] = []

    def checkout(route: Any) -> None:
        checkout_visits.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body=CHECKOUT_PAGE)

    context.route("https://checkout.stripe.com/**", checkout)
    page = context.new_page()
    try:
        # 1. Not bought: previews only, a Buy button with the price, a hand-made full link refused.
        page.goto(job_url)
        assert page.locator("#gallery a[download]").count() == 0
        assert page.locator("#buy-full-resolution").is_visible()
        assert "€9.00" in page.locator("#purchase-panel").inner_text()
        page.screenshot(path=str(screenshot_dir / "purchase-offer.png"), full_page=True)
        refused = page.goto(web_server + signed_portrait_url(portrait, "full"))
        assert refused is not None and refused.status == 402

        phone = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True)
        phone.set_extra_http_headers({"X-Job-Token": made.token})
        phone_page = phone.new_page()
        phone_page.goto(job_url)
        assert phone_page.locator("#buy-full-resolution").is_visible()
        phone_page.screenshot(path=str(screenshot_dir / "purchase-offer-phone.png"), full_page=True)
        phone.close()

        # 2. Buy: our server answers 303 to Stripe's Checkout origin, and the CSP lets the browser go.
        page.goto(job_url)
        page.click("#buy-full-resolution")
        page.wait_for_url("https://checkout.stripe.com/**")
        assert "Pay ProPortrait" in page.content()
        purchase = Purchase.objects.get(job=made.job)
        (sent,) = FakeCheckoutApi.received
        assert sent["metadata[purchase_id]"] == [str(purchase.id)]
        assert str(made.job.id) not in json.dumps(sent) and made.token not in json.dumps(sent)

        # 3. Back from Checkout before the webhook: still locked.
        page.goto(f"{web_server}/purchases/{purchase.id}/return/")
        assert "Stripe is confirming the payment" in page.locator("#purchase-panel").inner_text()
        assert page.locator("#gallery a[download]").count() == 0

        # 4. Stripe's signed webhook says paid: downloads work.
        assert signed_post(web_server + WEBHOOK_URL, paid_event(purchase))["outcome"] == "delivered"
        purchase.refresh_from_db()
        assert purchase.status == PurchaseStatus.PAID
        page.goto(f"{web_server}/purchases/{purchase.id}/return/")
        assert page.url == job_url
        assert "Full resolution bought" in page.locator("#purchase-panel").inner_text()
        page.screenshot(path=str(screenshot_dir / "purchase-bought.png"), full_page=True)
        link = page.locator("#gallery a[download]").first
        href = link.get_attribute("href")
        assert href == f"/jobs/{made.job.id}/portraits/1/full/"
        # Fetched with this browser context's own authorisation (its X-Job-Token header, which
        # Chromium does not add to a download it hands to its download manager).
        delivered = page.request.get(web_server + href)
        assert delivered.status == 200 and delivered.headers["content-type"].startswith("image/")
        assert delivered.body() == made.full_bytes[0]
        assert checkout_visits and all(
            url.startswith("https://checkout.stripe.com/") for url in checkout_visits
        )
    finally:
        context.close()


def test_form_action_self_alone_blocks_the_redirect_to_checkout(browser: Any, web_server: str) -> None:
    """Why form-action must name Stripe's origin: with 'self' only, the 303 to Checkout is blocked."""
    made = make_finished_job()
    job_url = f"{web_server}/jobs/{made.job.id}/"
    context = browser.new_context(viewport=DESKTOP)
    context.set_extra_http_headers({"X-Job-Token": made.token})
    checkout_visits: list[str] = []
    context.route(
        "https://checkout.stripe.com/**",
        lambda route: (
            checkout_visits.append(route.request.url),
            route.fulfill(status=200, content_type="text/html", body=CHECKOUT_PAGE),
        ),
    )

    served_policy: list[str] = []

    def strict_policy(route: Any) -> None:
        response = route.fetch()
        headers = dict(response.headers)
        served_policy.append(headers["content-security-policy"])
        headers["content-security-policy"] = headers["content-security-policy"].replace(
            "form-action 'self' https://checkout.stripe.com", "form-action 'self'"
        )
        route.fulfill(response=response, headers=headers)

    context.route(job_url, strict_policy)
    page = context.new_page()
    violations: list[str] = []
    page.on(
        "console", lambda message: violations.append(message.text) if "form-action" in message.text else None
    )
    try:
        page.goto(job_url)
        assert "form-action 'self' https://checkout.stripe.com;" in served_policy[0] + ";"
        page.click("#buy-full-resolution")
        page.wait_for_timeout(2000)
        assert checkout_visits == []
        assert not page.url.startswith("https://checkout.stripe.com")
        assert violations, "the browser reported no form-action violation"
    finally:
        context.close()
