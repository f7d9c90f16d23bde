"""DSAR receipt and verification (CCPA 7060-7062, GDPR Art. 12(6)): no account, emailed code, limits."""

from __future__ import annotations

import re
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from compliance.models import AuditEvent, DataSubjectRequest, DsarStatus
from compliance.tests.conftest import message_parts

pytestmark = pytest.mark.django_db

URL = "/api/v1/dsar/"


def submit(api_client: Any, **fields: Any) -> Any:
    payload = {"email": "jane@example.com", "request_type": "access", "details": "", **fields}
    return api_client.post(URL, payload, format="json")


def last_code() -> str:
    match = re.search(r"\b(\d{6})\b", str(mail.outbox[-1].body))
    assert match is not None
    return match.group(1)


def test_it_accepts_a_request_without_an_account_and_emails_receipt_with_a_code(api_client: Any) -> None:
    with time_machine.travel("2026-03-10 12:00Z", tick=False):
        response = submit(api_client, jurisdiction="eu_uk")

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "unverified"
    assert body["due_at"].startswith("2026-04-10")
    request = DataSubjectRequest.objects.get(pk=body["id"])
    assert request.received_at.isoformat().startswith("2026-03-10T12:00")
    assert len(mail.outbox) == 1
    text, html = message_parts(mail.outbox[0])
    assert mail.outbox[0].to == ["jane@example.com"]
    assert request.reference in mail.outbox[0].subject
    code = last_code()
    assert code in html and "10 April 2026" in text and "10 April 2026" in html
    assert code not in str(list(DataSubjectRequest.objects.values()))  # only a keyed hash is kept
    assert AuditEvent.objects.filter(action="dsar.received", object_id=str(request.pk)).exists()
    assert "jane@example.com" not in str(list(AuditEvent.objects.values()))


@pytest.mark.parametrize(
    "fields",
    [{"email": "not-an-email"}, {"request_type": "sell-my-data"}, {"email": ""}, {"jurisdiction": "mars"}],
)
def test_it_rejects_an_invalid_request(api_client: Any, fields: dict) -> None:
    response = submit(api_client, **fields)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert not DataSubjectRequest.objects.exists() and not mail.outbox


def test_it_limits_requests_per_network(api_client: Any, settings: Any) -> None:
    settings.COMPLIANCE_DSAR_REQUESTS_PER_HOUR = 2
    assert submit(api_client).status_code == 202
    assert submit(api_client, request_type="erasure").status_code == 202
    response = submit(api_client, request_type="portability")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"


def test_it_verifies_with_the_emailed_code(api_client: Any) -> None:
    request_id = submit(api_client, request_type="rectification").json()["id"]

    response = api_client.post(f"{URL}{request_id}/verify/", {"code": last_code()}, format="json")

    assert response.status_code == 200 and response.json() == {"status": "verified", "hold": ""}
    request = DataSubjectRequest.objects.get(pk=request_id)
    assert request.status == DsarStatus.VERIFIED and request.verified_at and not request.code_hash
    text, html = message_parts(mail.outbox[-1])
    assert "verified" in mail.outbox[-1].subject and "privacy team" in text and "privacy team" in html


def test_it_rejects_a_wrong_code_and_counts_the_try(api_client: Any) -> None:
    request_id = submit(api_client).json()["id"]
    wrong = "000000" if last_code() != "000000" else "111111"

    response = api_client.post(f"{URL}{request_id}/verify/", {"code": wrong}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_code"
    assert "4 tries left" in response.json()["error"]["message"]
    assert DataSubjectRequest.objects.get(pk=request_id).status == DsarStatus.UNVERIFIED


def test_it_rejects_an_expired_code(api_client: Any, settings: Any) -> None:
    with time_machine.travel("2026-03-10 12:00Z", tick=False):
        request_id = submit(api_client).json()["id"]
        code = last_code()
    with time_machine.travel("2026-03-10 12:16Z", tick=False):
        response = api_client.post(f"{URL}{request_id}/verify/", {"code": code}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "code_expired"


def test_it_locks_the_code_after_too_many_tries(api_client: Any, settings: Any) -> None:
    settings.COMPLIANCE_DSAR_CODE_MAX_ATTEMPTS = 3
    request_id = submit(api_client).json()["id"]
    code = last_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(3):
        api_client.post(f"{URL}{request_id}/verify/", {"code": wrong}, format="json")

    response = api_client.post(f"{URL}{request_id}/verify/", {"code": code}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "too_many_attempts"


def test_it_rejects_verifying_twice(api_client: Any) -> None:
    request_id = submit(api_client, request_type="objection").json()["id"]
    code = last_code()
    api_client.post(f"{URL}{request_id}/verify/", {"code": code}, format="json")
    response = api_client.post(f"{URL}{request_id}/verify/", {"code": code}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "already_verified"


def test_it_answers_404_for_an_unknown_request(api_client: Any) -> None:
    response = api_client.post(
        f"{URL}00000000-0000-0000-0000-000000000000/verify/", {"code": "1"}, format="json"
    )
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_it_rejects_a_missing_code(api_client: Any) -> None:
    request_id = submit(api_client).json()["id"]
    response = api_client.post(f"{URL}{request_id}/verify/", {}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_request"


def test_a_resent_code_replaces_the_old_one(api_client: Any) -> None:
    with time_machine.travel("2026-03-10 12:00Z", tick=False):
        request_id = submit(api_client, request_type="rectification").json()["id"]
        old = last_code()
    with time_machine.travel("2026-03-10 12:02Z", tick=False):
        assert api_client.post(f"{URL}{request_id}/resend/").status_code == 202
        new = last_code()
        text, html = message_parts(mail.outbox[-1])
        assert new in text and new in html
        if old != new:
            bad = api_client.post(f"{URL}{request_id}/verify/", {"code": old}, format="json")
            assert bad.json()["error"]["code"] == "invalid_code"
        assert api_client.post(f"{URL}{request_id}/verify/", {"code": new}, format="json").status_code == 200


def test_it_rate_limits_resending(api_client: Any, settings: Any) -> None:
    settings.COMPLIANCE_DSAR_MAX_CODES = 2
    with time_machine.travel("2026-03-10 12:00Z", tick=False):
        request_id = submit(api_client).json()["id"]
        too_soon = api_client.post(f"{URL}{request_id}/resend/")
        assert too_soon.status_code == 429 and too_soon.json()["error"]["code"] == "rate_limited"
    with time_machine.travel("2026-03-10 12:02Z", tick=False):
        assert api_client.post(f"{URL}{request_id}/resend/").status_code == 202
    with time_machine.travel("2026-03-10 12:04Z", tick=False):
        assert api_client.post(f"{URL}{request_id}/resend/").status_code == 429  # the total is spent


def test_it_rejects_resending_for_a_verified_request(api_client: Any) -> None:
    request_id = submit(api_client, request_type="objection").json()["id"]
    api_client.post(f"{URL}{request_id}/verify/", {"code": last_code()}, format="json")
    response = api_client.post(f"{URL}{request_id}/resend/")
    assert response.status_code == 400 and response.json()["error"]["code"] == "already_verified"


def test_the_public_form_needs_no_account_and_leads_to_verification(web_client: Any) -> None:
    page = web_client.get(reverse("compliance:dsar"))
    assert page.status_code == 200
    html = page.content.decode()
    for label in [
        'for="id_email"',
        "Access (a copy of my data)",
        "Erasure",
        "Portability",
        "Rectification",
        "Objection",
        'for="id_job_reference"',
    ]:
        assert label in html

    response = web_client.post(
        reverse("compliance:dsar"),
        {
            "email": "jane@example.com",
            "request_type": "objection",
            "jurisdiction": "california",
            "details": "Marketing",
        },
    )
    request = DataSubjectRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "compliance:dsar_verify", args=[request.pk]
    )
    assert request.details == "Marketing" and request.jurisdiction == "california"

    wrong = web_client.post(response["Location"], {"code": "abc"})
    assert wrong.status_code == 400 and "not right" in wrong.content.decode()
    right = web_client.post(response["Location"], {"code": last_code()}, follow=True)
    assert "is verified" in right.content.decode()


def test_the_public_form_shows_what_is_missing(web_client: Any) -> None:
    response = web_client.post(reverse("compliance:dsar"), {"email": "nope"})
    assert response.status_code == 400
    assert "Enter a valid email address" in response.content.decode()
    assert not DataSubjectRequest.objects.exists()


def test_the_verify_page_resends_a_code(web_client: Any) -> None:
    with time_machine.travel("2026-03-10 12:00Z", tick=False):
        web_client.post(reverse("compliance:dsar"), {"email": "jane@example.com", "request_type": "access"})
        request = DataSubjectRequest.objects.get()
        url = reverse("compliance:dsar_verify", args=[request.pk])
        too_soon = web_client.post(url, {"resend": "1"})
        assert too_soon.status_code == 400 and "wait a minute" in too_soon.content.decode()
    with time_machine.travel("2026-03-10 12:05Z", tick=False):
        assert web_client.post(url, {"resend": "1"}).status_code == 302
    assert len(mail.outbox) == 2


def test_a_request_keeps_only_a_keyed_hash_of_the_address_once_closed(api_client: Any) -> None:
    import hashlib

    request_id = submit(api_client, request_type="objection").json()["id"]
    api_client.post(f"{URL}{request_id}/verify/", {"code": last_code()}, format="json")
    request = DataSubjectRequest.objects.get(pk=request_id)
    from compliance import services

    services.deny_request(request, reason="Not applicable", actor="staff:1")
    request.refresh_from_db()
    assert request.email == ""
    assert request.email_sha256 != hashlib.sha256(b"jane@example.com").hexdigest()  # not a plain hash
