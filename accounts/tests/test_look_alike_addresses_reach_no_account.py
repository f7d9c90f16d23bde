"""Log-in, password reset, sign-up and invitations find an account by one normalised address.

On PostgreSQL, `email__iexact` compared UPPER() under the database collation, which folds the
dotless i (U+0131) to I: victim@gma<U+0131>l.com (another, registrable domain) matched the
account victim@gmail.com. Every look-up now compares the stored `email_key` exactly, and mail
goes to the stored address, never to the one typed. Runs on both stacks.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Membership, User
from accounts.tests.conftest import PASSWORD, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]

VICTIM = "victim@gmail.com"
LOOK_ALIKES = [
    "victim@gma\u0131l.com",  # dotless i: PostgreSQL UPPER() gives GMAIL
    "v\u0131ctim@gmail.com",  # dotless i in the local part (Django's validator lets it through)
    "victim@gm\u0430il.com",  # Cyrillic a
    "victim@gmail.c\u03bfm",  # Greek omicron
]
SAME_ADDRESS = ["VICTIM@GMAIL.COM", "Victim@Gmail.com", "victim@\uff47\uff4d\uff41\uff49\uff4c.com"]


@pytest.mark.parametrize("typed", LOOK_ALIKES)
def test_a_look_alike_does_not_log_in(client: Any, typed: str) -> None:
    make_user(VICTIM)

    response = client.post(reverse("accounts:login"), {"email": typed, "password": PASSWORD})

    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("typed", SAME_ADDRESS)
def test_the_same_address_in_another_case_logs_in(client: Any, typed: str) -> None:
    user = make_user(VICTIM)

    response = client.post(reverse("accounts:login"), {"email": typed, "password": PASSWORD})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.parametrize("typed", LOOK_ALIKES)
def test_a_reset_for_a_look_alike_sends_nothing(
    client: Any, typed: str, django_capture_on_commit_callbacks: Any, eager_celery: None
) -> None:
    make_user(VICTIM)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:password_reset"), {"email": typed})

    assert response.status_code == 302
    assert mail.outbox == []


@pytest.mark.parametrize("typed", SAME_ADDRESS)
def test_a_reset_goes_to_the_stored_address_not_the_typed_one(
    client: Any, typed: str, django_capture_on_commit_callbacks: Any, eager_celery: None
) -> None:
    make_user(VICTIM)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:password_reset"), {"email": typed})

    assert [message.to for message in mail.outbox] == [[VICTIM]]


@pytest.mark.parametrize("typed", SAME_ADDRESS)
def test_sign_up_with_the_same_address_makes_no_second_account(
    client: Any, typed: str, django_capture_on_commit_callbacks: Any, eager_celery: None
) -> None:
    make_user(VICTIM)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:signup"), {"email": typed, "password": PASSWORD})

    assert User.objects.count() == 1
    assert [message.to for message in mail.outbox] == [[VICTIM]]


def test_a_look_alike_is_a_different_person_when_inviting(team: Any) -> None:
    from accounts.teams import TeamError, invite_member

    make_user(VICTIM)
    Membership.objects.create(user=User.objects.get(email=VICTIM), organisation=team.organisation)

    with pytest.raises(TeamError, match="already a member"):
        invite_member(team.organisation, email="VICTIM@gmail.com", invited_by=team.admin)
    invitation = invite_member(team.organisation, email="victim@gma\u0131l.com", invited_by=team.admin)

    assert invitation.email_key == "victim@xn--gmal-nza.com"


def test_an_invitation_is_accepted_only_by_the_account_with_that_address(
    team: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from accounts.teams import TeamError, accept_invitation, invite_member

    with django_capture_on_commit_callbacks(execute=True):
        invite_member(team.organisation, email=VICTIM, invited_by=team.admin)
    raw_token = mail.outbox[-1].body.split("/accounts/invitations/")[1].split("/")[0]
    impostor = make_user("victim@gma\u0131l.com")

    with pytest.raises(TeamError, match="different email address"):
        accept_invitation(raw_token, impostor)

    assert not team.organisation.memberships.filter(user=impostor).exists()
    holder = make_user("Victim@GMAIL.com")
    assert accept_invitation(raw_token, holder).user == holder
