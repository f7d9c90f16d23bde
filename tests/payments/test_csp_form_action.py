"""The Content-Security-Policy adds exactly Stripe's Checkout origin to form-action, and only
while payments are on (the browser test shows why: a 303 to Checkout is otherwise blocked)."""

from __future__ import annotations

from typing import Any

import pytest

from portraits.payments.stripe_gateway import CHECKOUT_ORIGIN
from proportrait.middleware import STRIPE_CHECKOUT_ORIGIN

pytestmark = pytest.mark.django_db


def directives(response: Any) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in (p.strip() for p in policy.split(";"))}


def test_free_mode_allows_forms_to_post_to_ourselves_only(client: Any, settings: Any) -> None:
    settings.PROPORTRAIT_PAYMENTS_ENABLED = False
    for path in ("/", "/pricing/", "/privacy/"):
        policy = directives(client.get(path))
        assert policy["form-action"] == "'self'"


def test_with_payments_on_form_action_adds_exactly_stripe_checkout(client: Any, settings: Any) -> None:
    settings.PROPORTRAIT_PAYMENTS_ENABLED = True
    policy = directives(client.get("/"))
    assert policy["form-action"] == "'self' https://checkout.stripe.com"
    # Nothing else opens up: scripts, frames, connections and images stay our own.
    assert policy["script-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert policy["default-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "stripe" not in "".join(v for k, v in policy.items() if k != "form-action")


def test_the_policy_and_the_gateway_name_the_same_origin() -> None:
    assert STRIPE_CHECKOUT_ORIGIN == CHECKOUT_ORIGIN == "https://checkout.stripe.com"
