"""The pricing page and an organisation's Billing page in a real browser with payments on: what
they say, at desktop and phone widths, with nothing loaded from a third party."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from django.utils import timezone

from accounts.models import SubscriptionStatus, TeamSubscription
from accounts.tests.conftest import make_team, verified_client
from tests.browser.conftest import DESKTOP, PHONE
from tests.payments.conftest import WEBHOOK_SECRET

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def stack_env(stack_env: dict[str, str], settings: Any) -> dict[str, str]:
    settings.PROPORTRAIT_PAYMENTS_ENABLED = True
    return {
        **stack_env,
        "STRIPE_SECRET_KEY": "sk_test_browser_" + "k" * 16,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": "http://127.0.0.1:9",  # never reached by these pages
        "STRIPE_TEAM_SEAT_PRICE_ID": "price_team_seat",
        "PROPORTRAIT_TEAM_SEAT_PRICE_CENTS_PER_MONTH": "1200",
        "PROPORTRAIT_FULL_RESOLUTION_PRICE_CENTS": "900",
    }


def test_pricing_and_billing_pages(browser: Any, web_server: str, screenshot_dir: Path) -> None:
    team = make_team("acme", "Acme & Co")
    TeamSubscription.objects.create(
        organisation=team.organisation,
        status=SubscriptionStatus.ACTIVE,
        seats=5,
        stripe_customer_id="cus_test",
        stripe_subscription_id="sub_test",
        current_period_end=timezone.now() + timedelta(days=20),
    )
    session_cookie = verified_client(team.admin).cookies["sessionid"].value
    hosts: list[str] = []
    for name, viewport in (("1280", DESKTOP), ("390", PHONE)):
        context = browser.new_context(viewport=viewport)
        context.on("request", lambda request: hosts.append(urlparse(request.url).hostname or ""))
        context.add_cookies([{"name": "sessionid", "value": session_cookie, "url": web_server}])
        page = context.new_page()
        try:
            page.goto(f"{web_server}/pricing/")
            table = page.locator("#price-list").inner_text()
            assert "€9.00" in table and "€12.00 per seat per month" in table
            page.screenshot(path=str(screenshot_dir / f"pricing-{name}.png"), full_page=True)

            page.goto(f"{web_server}/accounts/orgs/acme/billing/")
            state = page.locator("#billing-state").inner_text()
            assert "Active: 5 seats, 3 in use." in state
            assert page.locator("#change-seats").is_visible()
            assert (
                page.locator("#billing-portal").get_attribute("href") == "/accounts/orgs/acme/billing/portal/"
            )
            page.screenshot(path=str(screenshot_dir / f"billing-{name}.png"), full_page=True)
        finally:
            context.close()
    assert set(hosts) == {"127.0.0.1"}
