"""A personal account's page links full resolution only once it is bought (payments on)."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.tests.conftest import logged_in_client, make_user
from portraits.models import PortraitJob
from portraits.payments import services as purchases
from tests.payments.conftest import (
    FakeHostedGateway,
    completed_session,
    event_payload,
    make_finished_job,
    post_event,
)

pytestmark = pytest.mark.django_db


def test_the_account_page_offers_buying_until_paid(client: Any, payments_on: FakeHostedGateway) -> None:
    user = make_user("owner@example.com")
    made = make_finished_job()
    PortraitJob.objects.filter(pk=made.job.pk).update(owner=user)
    account = logged_in_client(user)

    page = account.get("/accounts/").content.decode()
    assert "Buy full resolution" in page
    assert "/files/" in page  # previews
    assert 'aria-label="Download portrait 1 at full resolution"' not in page

    purchase, _ = purchases.start_purchase(made.job)
    post_event(client, event_payload("checkout.session.completed", completed_session(purchase)))
    page = account.get("/accounts/").content.decode()
    assert 'aria-label="Download portrait 1 at full resolution"' in page
    assert "Buy full resolution" not in page
