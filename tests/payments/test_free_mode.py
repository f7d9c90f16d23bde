"""Free mode (no Stripe keys, the embedded default): downloads work as before, the pricing page
and the results page say everything is free, and no purchase can start."""

from __future__ import annotations

from typing import Any

import pytest

from portraits.models import Purchase
from tests.payments.conftest import FinishedJob

pytestmark = pytest.mark.django_db


def test_the_embedded_default_has_payments_off() -> None:
    from django.conf import settings

    # The test environment sets no Stripe variable, as the embedded default.
    assert settings.STRIPE_SECRET_KEY == ""
    assert settings.PROPORTRAIT_PAYMENTS_ENABLED is False


def test_downloads_are_free_and_the_pages_say_so(client: Any, finished_job: FinishedJob) -> None:
    status = client.get(f"/api/v1/jobs/{finished_job.job.id}/", HTTP_X_JOB_TOKEN=finished_job.token).json()
    urls = [p["download_url"] for p in status["portraits"]]
    assert all(urls)
    download = client.get(urls[0].replace("http://testserver", ""))
    assert download.status_code == 200
    assert download.content == finished_job.full_bytes[0]

    page = client.get(f"/jobs/{finished_job.job.id}/", HTTP_X_JOB_TOKEN=finished_job.token).content.decode()
    assert "Full-resolution downloads are free here" in page
    assert 'id="buy-full-resolution"' not in page

    pricing = client.get("/pricing/").content.decode()
    assert "Everything is free on this site" in pricing
    assert "Free here" in pricing


def test_no_purchase_can_start(client: Any, finished_job: FinishedJob) -> None:
    response = client.post(f"/jobs/{finished_job.job.id}/buy/", HTTP_X_JOB_TOKEN=finished_job.token)
    assert response.status_code == 409
    assert "Downloads are free here" in response.content.decode()
    assert not Purchase.objects.exists()


def test_both_keys_are_needed_to_switch_payments_on(monkeypatch: Any) -> None:
    import importlib

    import proportrait.settings as project_settings

    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_only_the_key")
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    assert importlib.reload(project_settings).PROPORTRAIT_PAYMENTS_ENABLED is False
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_test")
    assert importlib.reload(project_settings).PROPORTRAIT_PAYMENTS_ENABLED is True
    monkeypatch.delenv("STRIPE_SECRET_KEY")
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET")
    importlib.reload(project_settings)
