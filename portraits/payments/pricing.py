"""Prices as data (settings), for the pricing page, the results page and Checkout."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

CURRENCY_SYMBOLS = {"eur": "€", "usd": "$", "gbp": "£", "chf": "CHF "}


def payments_enabled() -> bool:
    """True when Stripe keys are configured; otherwise every download is free."""
    return bool(settings.PROPORTRAIT_PAYMENTS_ENABLED)


def format_amount(amount_cents: int, currency: str) -> str:
    symbol = CURRENCY_SYMBOLS.get(currency.lower())
    value = f"{amount_cents // 100}.{amount_cents % 100:02d}"
    return f"{symbol}{value}" if symbol else f"{value} {currency.upper()}"


@dataclass(frozen=True)
class Price:
    key: str
    label: str
    amount_cents: int
    currency: str
    per: str = ""  # "" for one-off, else what it is charged per ("seat per month")

    @property
    def display(self) -> str:
        amount = format_amount(self.amount_cents, self.currency)
        return f"{amount} per {self.per}" if self.per else amount


def full_resolution_price() -> Price:
    return Price(
        key="full_resolution",
        label="Full-resolution portraits of one job, without watermark",
        amount_cents=int(settings.PROPORTRAIT_FULL_RESOLUTION_PRICE_CENTS),
        currency=settings.PROPORTRAIT_CURRENCY,
    )


def team_seat_price() -> Price:
    return Price(
        key="team_seat",
        label="Team plan: one seat (one member's headshots, admin dashboard, ZIP export, API)",
        amount_cents=int(settings.PROPORTRAIT_TEAM_SEAT_PRICE_CENTS_PER_MONTH),
        currency=settings.PROPORTRAIT_CURRENCY,
        per="seat per month",
    )


def price_list() -> list[Price]:
    return [full_resolution_price(), team_seat_price()]
