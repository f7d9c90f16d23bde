"""An organisation API token may invite members, never admins: those are invited in the UI,
by an admin who has passed two-factor authentication."""

from __future__ import annotations

from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts import teams
from accounts.models import Invitation, Role
from accounts.tests.conftest import verified_client


def invite(client: Client, slug: str, role: str):
    return client.post(
        reverse("org-invitations", args=[slug]),
        {"email": "new-boss@example.com", "role": role},
        content_type="application/json",
    )


def test_it_refuses_an_admin_invitation_made_with_a_token(team, django_capture_on_commit_callbacks):
    _token, raw = teams.create_api_token(team.organisation, name="HR", actor=team.owner)
    api = Client(HTTP_AUTHORIZATION=f"Token {raw}")

    with django_capture_on_commit_callbacks(execute=True):
        response = invite(api, team.organisation.slug, Role.ADMIN)

    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error) == {"code", "message"}
    assert error["code"] == "role_not_allowed"
    assert "members only" in error["message"]
    assert not Invitation.objects.filter(email="new-boss@example.com").exists()
    assert mail.outbox == []


def test_it_still_lets_a_token_invite_a_member(team, django_capture_on_commit_callbacks):
    _token, raw = teams.create_api_token(team.organisation, name="HR", actor=team.owner)
    api = Client(HTTP_AUTHORIZATION=f"Token {raw}")

    with django_capture_on_commit_callbacks(execute=True):
        response = invite(api, team.organisation.slug, Role.MEMBER)

    assert response.status_code == 201
    assert Invitation.objects.get(email="new-boss@example.com").role == Role.MEMBER


def test_it_still_lets_an_admin_with_two_factor_invite_an_admin(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(verified_client(team.admin), team.organisation.slug, Role.ADMIN)

    assert response.status_code == 201
    assert Invitation.objects.get(email="new-boss@example.com").role == Role.ADMIN
