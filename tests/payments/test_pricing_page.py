"""Prices are data: the public pricing page and the results page show the configured amounts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.payments.conftest import FakeHostedGateway, FinishedJob

pytestmark = pytest.mark.django_db


def test_the_pricing_page_shows_the_configured_prices(
    client: Any, payments_on: FakeHostedGateway, settings: Any
) -> None:
    settings.PROPORTRAIT_FULL_RESOLUTION_PRICE_CENTS = 1250
    settings.PROPORTRAIT_TEAM_SEAT_PRICE_CENTS_PER_MONTH = 799
    settings.PROPORTRAIT_CURRENCY = "gbp"
    page = client.get("/pricing/").content.decode()
    assert "£12.50" in page
    assert "£7.99 per seat per month" in page
    assert "Everything is free" not in page
    assert "never receives your photo" in page


def test_the_results_page_shows_the_same_price(
    client: Any, payments_on: FakeHostedGateway, settings: Any, finished_job: FinishedJob
) -> None:
    settings.PROPORTRAIT_FULL_RESOLUTION_PRICE_CENTS = 1500
    settings.PROPORTRAIT_CURRENCY = "usd"
    page = client.get(f"/jobs/{finished_job.job.id}/", HTTP_X_JOB_TOKEN=finished_job.token).content.decode()
    assert "without watermark: $15.00" in page


def test_checkout_charges_the_configured_price_with_stripe_tax_when_asked(
    client: Any, payments_on: FakeHostedGateway, settings: Any, finished_job: FinishedJob
) -> None:
    settings.PROPORTRAIT_FULL_RESOLUTION_PRICE_CENTS = 1500
    settings.PROPORTRAIT_CURRENCY = "usd"
    settings.STRIPE_AUTOMATIC_TAX = True
    client.post(f"/jobs/{finished_job.job.id}/buy/", HTTP_X_JOB_TOKEN=finished_job.token)
    (call,) = payments_on.checkout_calls
    assert call["params"]["line_items"][0]["price_data"]["unit_amount"] == 1500
    assert call["params"]["line_items"][0]["price_data"]["currency"] == "usd"
    assert call["params"]["automatic_tax"] == {"enabled": True}
    assert "before tax" in client.get("/pricing/").content.decode()
