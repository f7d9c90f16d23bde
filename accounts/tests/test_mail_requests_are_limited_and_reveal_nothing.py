"""Requests that make us send mail are limited, cannot be turned against the address holder, and
answer alike whether or not an address has an account.

Found: 15 sign-ups plus 15 password resets put 30 mails in one inbox in 6.3 s; invitation
re-sends and reminders had no limit; ten data-rights requests naming someone's address, from
two networks, blocked that person's own requests for a day (429). After sign-up a new address
had a session and an existing one did not; a reset mailed synchronously, so a known address
took longer than an unknown one.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client, TestCase
from django.urls import reverse

from accounts.models import Invitation
from accounts.tests.conftest import PASSWORD, logged_in_client, make_user, verified_client
from compliance.models import AuditEvent, DataSubjectRequest

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]

VICTIM = "inbox@example.com"
ATTACKER_NETWORK = "198.51.100.7"
SECOND_NETWORK = "203.0.113.50"
HOLDER_NETWORK = "192.0.2.80"


def post(path: str, data: dict[str, Any], ip: str, client: Client | None = None) -> Any:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return (client or Client()).post(path, data, REMOTE_ADDR=ip)


def test_fifteen_sign_ups_and_fifteen_resets_put_a_handful_of_mails_in_the_inbox(settings: Any) -> None:
    settings.ACCOUNTS_MAILS_PER_ADDRESS_PER_NETWORK_PER_HOUR = 3
    make_user(VICTIM)

    answers = [
        post(reverse("accounts:signup"), {"email": VICTIM, "password": PASSWORD + "!"}, ATTACKER_NETWORK)
        for _ in range(15)
    ] + [post(reverse("accounts:password_reset"), {"email": VICTIM}, ATTACKER_NETWORK) for _ in range(15)]

    assert len([m for m in mail.outbox if m.to == [VICTIM]]) == 6
    refused = [answer for answer in answers if answer.status_code == 429]
    assert len(refused) == 24
    assert "We have just sent several messages to this address" in refused[0].content.decode()
    assert AuditEvent.objects.filter(action="account.mail_limited").count() == 24
    assert VICTIM not in str(list(AuditEvent.objects.values("data", "actor", "object_id")))


def test_someone_elses_requests_do_not_use_up_the_holders_own(settings: Any) -> None:
    settings.ACCOUNTS_MAILS_PER_ADDRESS_PER_NETWORK_PER_HOUR = 3
    make_user(VICTIM)
    for _ in range(5):
        post(reverse("accounts:password_reset"), {"email": VICTIM}, ATTACKER_NETWORK)
    mail.outbox.clear()

    response = post(reverse("accounts:password_reset"), {"email": VICTIM}, HOLDER_NETWORK)

    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [[VICTIM]]


def test_sign_up_leaves_the_same_state_for_a_known_and_an_unknown_address() -> None:
    make_user("taken@example.com")
    known, unknown = Client(), Client()

    known_answer = post(
        reverse("accounts:signup"), {"email": "taken@example.com", "password": PASSWORD}, "192.0.2.1", known
    )
    unknown_answer = post(
        reverse("accounts:signup"), {"email": "new@example.com", "password": PASSWORD}, "192.0.2.2", unknown
    )

    assert (known_answer.status_code, known_answer["Location"]) == (
        unknown_answer.status_code,
        unknown_answer["Location"],
    )
    assert known.get("/accounts/").status_code == unknown.get("/accounts/").status_code == 302
    assert "_auth_user_id" not in known.session and "_auth_user_id" not in unknown.session


@pytest.mark.parametrize("path", ["accounts:password_reset", "accounts:signup"])
def test_the_web_request_sends_no_mail_itself_known_or_unknown(path: str) -> None:
    """The mail is the worker's job: the web answer does the same work (queue one task) for any
    address, so its timing cannot tell a known address from an unknown one."""
    make_user("taken@example.com")
    queued = []
    for index, email in enumerate(["taken@example.com", f"nobody{path[-3:]}@example.com"]):
        with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
            Client().post(
                reverse(path), {"email": email, "password": PASSWORD}, REMOTE_ADDR=f"192.0.2.{10 + index}"
            )
        assert mail.outbox == []
        queued.append(len(callbacks))
    assert queued == [1, 1]


def test_invitation_re_sends_and_reminders_are_limited(team: Any, settings: Any) -> None:
    from accounts.teams import invite_member

    settings.ACCOUNTS_TEAM_MAILS_PER_PERSON_PER_DAY = 3
    with TestCase.captureOnCommitCallbacks(execute=True):
        invitation = invite_member(team.organisation, email="new.hire@example.com", invited_by=team.admin)
    admin = verified_client(team.admin)
    for _ in range(4):
        with TestCase.captureOnCommitCallbacks(execute=True):
            admin.post(reverse("accounts:org_invitation_resend", args=["acme", invitation.pk]))
    for _ in range(5):
        with TestCase.captureOnCommitCallbacks(execute=True):
            page = admin.post(
                reverse("accounts:org_member_remind", args=["acme", team.member_membership.pk]), follow=True
            )

    assert len([m for m in mail.outbox if m.to == ["new.hire@example.com"]]) == 3
    assert Invitation.objects.get(pk=invitation.pk).send_count == 3
    assert len([m for m in mail.outbox if m.to == [team.member.email]]) == 3
    assert "as many messages from us as we send in a day" in page.content.decode()
    assert AuditEvent.objects.filter(action="team.mail_limited").count() == 4


def request_access(email: str, ip: str, client: Client | None = None) -> Any:
    return post(
        "/privacy/requests/",
        {"email": email, "request_type": "access", "details": "", "job_reference": ""},
        ip,
        client,
    )


def test_requests_naming_someones_address_do_not_block_their_own(settings: Any) -> None:
    settings.COMPLIANCE_DSAR_CODES_PER_EMAIL_PER_DAY = 3
    settings.COMPLIANCE_DSAR_REQUESTS_PER_HOUR = 50
    make_user(VICTIM)
    for index in range(10):
        request_access(VICTIM, ATTACKER_NETWORK if index % 2 else SECOND_NETWORK)
    assert request_access(VICTIM, ATTACKER_NETWORK).status_code == 400  # that network is refused...

    own = request_access(VICTIM, HOLDER_NETWORK)  # ...the holder, from theirs, is not

    assert own.status_code == 302
    assert AuditEvent.objects.filter(action="dsar.rate_limited").exists()


def test_a_signed_in_holder_is_never_blocked_by_the_limits(settings: Any) -> None:
    settings.COMPLIANCE_DSAR_CODES_PER_EMAIL_PER_DAY = 1
    settings.COMPLIANCE_DSAR_REQUESTS_PER_HOUR = 1
    holder = make_user(VICTIM)
    for _ in range(4):
        request_access(VICTIM, ATTACKER_NETWORK)
    before = DataSubjectRequest.objects.count()

    response = request_access(VICTIM, ATTACKER_NETWORK, logged_in_client(holder))

    assert response.status_code == 302 and re.search(r"/privacy/requests/[0-9a-f-]+/$", response["Location"])
    assert DataSubjectRequest.objects.count() == before + 1
