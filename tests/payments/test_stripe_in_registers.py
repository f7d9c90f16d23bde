"""Stripe is named wherever a recipient must be: sub-processors, privacy notice, records of processing."""

from __future__ import annotations

from typing import Any

import pytest

from compliance.models import ProcessingActivity, SubProcessor
from compliance.services.registers import ropa_csv

pytestmark = pytest.mark.django_db


def test_the_subprocessor_register_lists_stripe_and_what_it_receives(client: Any) -> None:
    stripe = SubProcessor.objects.get(name__startswith="Stripe")
    assert "never photos" in stripe.data_categories.lower()
    page = client.get("/privacy/sub-processors/").content.decode()
    assert stripe.name in page
    assert "E-mail, name and payment details the buyer gives at checkout" in page
    assert "They only ever hold encrypted data." not in page  # no longer true of every provider


def test_the_privacy_notice_explains_payments(client: Any, settings: Any) -> None:
    settings.PROPORTRAIT_PURCHASE_RECORD_RETENTION_YEARS = 7
    page = client.get("/privacy/").content.decode()
    assert 'id="payments"' in page
    assert "never receives your photo" in page
    assert "<strong>7 years</strong>" in page


def test_the_records_of_processing_include_payments() -> None:
    activity = ProcessingActivity.objects.get(name="Payments and invoicing")
    assert "legal obligation" in activity.legal_basis
    assert "Payments and invoicing" in ropa_csv()
