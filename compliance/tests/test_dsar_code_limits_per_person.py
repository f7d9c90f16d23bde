"""Verification codes are limited per person and per network, not only per request: opening
request after request must not buy an attacker more guesses at someone's code."""

from __future__ import annotations

import re
from typing import Any

import pytest
import time_machine
from django.core import mail

from compliance.models import DataSubjectRequest, DsarStatus

pytestmark = pytest.mark.django_db

URL = "/api/v1/dsar/"


@pytest.fixture(autouse=True)
def _limits(settings: Any) -> None:
    settings.COMPLIANCE_DSAR_REQUESTS_PER_HOUR = 100
    settings.COMPLIANCE_DSAR_CODES_PER_EMAIL_PER_DAY = 3
    settings.COMPLIANCE_DSAR_FAILED_CODES_PER_EMAIL_PER_DAY = 4
    settings.COMPLIANCE_DSAR_CODES_PER_ADDRESS_PER_DAY = 50
    settings.COMPLIANCE_DSAR_FAILED_CODES_PER_ADDRESS_PER_DAY = 50


def submit(api_client: Any, email: str = "jane@example.com", **extra: Any) -> Any:
    return api_client.post(URL, {"email": email, "request_type": "access"}, format="json", **extra)


def last_code() -> str:
    match = re.search(r"\b(\d{6})\b", str(mail.outbox[-1].body))
    assert match is not None
    return match.group(1)


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def assert_rate_limited(response: Any) -> None:
    assert response.status_code == 429, response.content
    assert response.json()["error"]["code"] == "rate_limited"
    assert response.json()["error"]["message"]


def test_wrong_codes_across_requests_for_one_email_are_capped(api_client: Any) -> None:
    with time_machine.travel("2026-06-01 10:00Z", tick=False):
        first = submit(api_client).json()["id"]
        first_code = last_code()
        for _ in range(3):
            assert (
                api_client.post(
                    f"{URL}{first}/verify/", {"code": wrong(first_code)}, format="json"
                ).status_code
                == 400
            )
        second = submit(api_client, email="JANE@example.com").json()["id"]
        second_code = last_code()
        api_client.post(f"{URL}{second}/verify/", {"code": wrong(second_code)}, format="json")

        # Four wrong codes for this person today: even the right code is refused now.
        response = api_client.post(f"{URL}{second}/verify/", {"code": second_code}, format="json")
        assert_rate_limited(response)
        assert DataSubjectRequest.objects.get(pk=second).status == DsarStatus.UNVERIFIED

        # Someone else is not affected.
        other = submit(api_client, email="other@example.com").json()["id"]
        ok = api_client.post(f"{URL}{other}/verify/", {"code": last_code()}, format="json")
        assert ok.status_code == 200

    # A day later the person can ask for a fresh code and verify.
    with time_machine.travel("2026-06-02 10:01Z", tick=False):
        assert api_client.post(f"{URL}{second}/resend/", format="json").status_code == 202
        response = api_client.post(f"{URL}{second}/verify/", {"code": last_code()}, format="json")
    assert response.status_code == 200 and response.json() == {"status": "verified", "hold": ""}


def test_codes_sent_for_one_email_are_capped_across_requests_and_resends(api_client: Any) -> None:
    with time_machine.travel("2026-06-01 10:00Z", tick=False) as traveller:
        first = submit(api_client).json()["id"]
        submit(api_client)
        traveller.shift(120)
        assert api_client.post(f"{URL}{first}/resend/", format="json").status_code == 202
        sent = len(mail.outbox)

        traveller.shift(120)
        assert_rate_limited(api_client.post(f"{URL}{first}/resend/", format="json"))
        assert_rate_limited(submit(api_client))
        assert len(mail.outbox) == sent
        assert DataSubjectRequest.objects.count() == 2


def test_wrong_codes_from_one_network_are_capped_across_emails(api_client: Any, settings: Any) -> None:
    settings.COMPLIANCE_DSAR_FAILED_CODES_PER_ADDRESS_PER_DAY = 3
    settings.PROPORTRAIT_TRUSTED_PROXY_HOPS = 1
    attacker = {"HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    # The attacker's own guesses at the left of X-Forwarded-For change nothing.
    spoofed = [{"HTTP_X_FORWARDED_FOR": f"10.0.0.{n}, 198.51.100.7"} for n in range(3)]
    for number, headers in enumerate(spoofed):
        request_id = submit(api_client, email=f"victim{number}@example.com", **attacker).json()["id"]
        code = last_code()
        response = api_client.post(
            f"{URL}{request_id}/verify/", {"code": wrong(code)}, format="json", **headers
        )
        assert response.status_code == 400

    request_id = submit(api_client, email="victim9@example.com", **attacker).json()["id"]
    code = last_code()
    assert_rate_limited(
        api_client.post(f"{URL}{request_id}/verify/", {"code": code}, format="json", **attacker)
    )
    # The person themself, on another network, still gets through.
    response = api_client.post(
        f"{URL}{request_id}/verify/", {"code": code}, format="json", HTTP_X_FORWARDED_FOR="203.0.113.5"
    )
    assert response.status_code == 200


def test_the_web_form_shows_the_limit(web_client: Any, api_client: Any, settings: Any) -> None:
    settings.COMPLIANCE_DSAR_FAILED_CODES_PER_EMAIL_PER_DAY = 1
    request_id = submit(api_client).json()["id"]
    code = last_code()
    url = f"/privacy/requests/{request_id}/"
    assert web_client.post(url, {"code": wrong(code)}).status_code == 400
    response = web_client.post(url, {"code": code})
    assert response.status_code == 400 and "Too many wrong codes today" in response.content.decode()
