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
    assert f"/jobs/{made.job.id}/portraits/1/preview/" in page  # previews, authorised by the session
    assert "/portraits/1/full/" not in page
    assert 'aria-label="Download portrait 1 at full resolution"' not in page

    purchase, _ = purchases.start_purchase(made.job)
    post_event(client, event_payload("checkout.session.completed", completed_session(purchase)))
    page = account.get("/accounts/").content.decode()
    assert 'aria-label="Download portrait 1 at full resolution"' in page
    assert "Buy full resolution" not in page


def test_session_links_and_the_zip_give_full_resolution_only_once_paid(
    client: Any, payments_on: FakeHostedGateway
) -> None:
    user = make_user("buyer@example.com")
    made = make_finished_job()
    PortraitJob.objects.filter(pk=made.job.pk).update(owner=user)
    account = logged_in_client(user)
    full = f"/jobs/{made.job.id}/portraits/1/full/"
    archive = f"/jobs/{made.job.id}/portraits.zip"

    assert account.get(f"/jobs/{made.job.id}/portraits/1/preview/").status_code == 200
    refused = account.get(full)
    assert refused.status_code == 402
    assert refused["Content-Type"].startswith("text/html")
    assert account.get(archive).status_code == 402

    purchase, _ = purchases.start_purchase(made.job)
    post_event(client, event_payload("checkout.session.completed", completed_session(purchase)))
    delivered = account.get(full)
    assert delivered.status_code == 200
    assert delivered["Content-Type"].startswith("image/")
    zipped = account.get(archive)
    assert zipped.status_code == 200
    assert b"".join(zipped.streaming_content)[:2] == b"PK"
