"""A data-rights export includes purchases; an erasure removes what it may and says what tax law
keeps, and until when (the certificate is rendered and checked against the database)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from compliance.pdf import render_certificate
from compliance.services import Subject, erase_subject
from compliance.services.exports import export_subject_data
from compliance.tests.conftest import pdf_text
from portraits.models import Purchase, PurchaseStatus
from portraits.payments import services as purchases
from tests.payments.conftest import (
    FakeHostedGateway,
    completed_session,
    event_payload,
    make_finished_job,
    post_event,
)

pytestmark = pytest.mark.django_db

EMAIL = "Buyer.Person@example.com"


def paid_purchase(client: Any, email: str = EMAIL) -> Purchase:
    made = make_finished_job()
    purchase, _ = purchases.start_purchase(made.job)
    session = completed_session(purchase, email=email)
    assert post_event(client, event_payload("checkout.session.completed", session)).json()["outcome"] == (
        "delivered"
    )
    purchase.refresh_from_db()
    return purchase


def exported(subject: Subject) -> dict[str, Any]:
    archive = zipfile.ZipFile(io.BytesIO(export_subject_data(subject, reference="DSAR-TEST")))
    return json.loads(archive.read("data.json"))


def test_an_export_found_by_checkout_email_includes_the_purchase(
    client: Any, payments_on: FakeHostedGateway
) -> None:
    purchase = paid_purchase(client)
    someone_else = paid_purchase(client, email="other@example.com")

    data = exported(Subject(email="buyer.person@EXAMPLE.com"))
    rows = data["parts"]["purchases"]["purchases"]
    assert [row["purchase_id"] for row in rows] == [str(purchase.id)]
    (row,) = rows
    assert row["status"] == "paid"
    assert row["amount_cents"] == 900 and row["currency"] == "eur"
    assert row["kept_until"] == purchase.keep_until.isoformat()  # type: ignore[union-attr]
    assert row["job_id"] == str(purchase.job_id)
    assert str(someone_else.id) not in json.dumps(data)


def test_an_export_found_by_job_includes_its_purchase(client: Any, payments_on: FakeHostedGateway) -> None:
    purchase = paid_purchase(client)
    data = exported(Subject(job_ids=(str(purchase.job_id),)))
    assert [row["purchase_id"] for row in data["parts"]["purchases"]["purchases"]] == [str(purchase.id)]


def test_an_erasure_keeps_paid_records_for_tax_law_and_says_until_when(
    client: Any, payments_on: FakeHostedGateway
) -> None:
    purchase = paid_purchase(client)
    job_id = str(purchase.job_id)
    abandoned, _ = purchases.start_purchase(make_finished_job().job)
    Purchase.objects.filter(pk=abandoned.pk).update(email_sha256=purchase.email_sha256)

    certificate = erase_subject(Subject(email=EMAIL, job_ids=(job_id,)), reason="dsar", actor="system")

    purchase.refresh_from_db()
    assert purchase.status == PurchaseStatus.PAID  # the accounting record stays
    assert purchase.email_sha256 == ""  # nothing links it to the person any more
    assert purchase.job_id is None
    assert not Purchase.objects.filter(pk=abandoned.pk).exists()  # never paid: not a record we must keep
    assert certificate.scope["erased"]["purchases"] == {
        "unpaid_purchases_deleted": 1,
        "paid_purchases_unlinked": 1,
    }

    text = pdf_text(render_certificate(certificate))
    assert "Kept for a legal obligation (tax law)" in text
    assert purchase.keep_until is not None
    assert f"until {purchase.keep_until:%d %B %Y}" in text

    # Afterwards the e-mail finds nothing.
    assert exported(Subject(email=EMAIL))["parts"]["purchases"]["purchases"] == []
