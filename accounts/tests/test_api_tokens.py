"""Organisation API tokens for HR integrations: hashed, scoped to one organisation, revocable."""

from __future__ import annotations

import hashlib

from django.test import Client
from django.urls import reverse

from accounts import teams
from accounts.models import Invitation, OrganisationApiToken
from accounts.tests.conftest import verified_client
from compliance.models import AuditEvent


def test_admin_creates_a_token_that_is_stored_hashed(team):
    client = verified_client(team.admin)
    response = client.post(
        reverse("accounts:org_tokens", args=[team.organisation.slug]), {"name": "HR system"}
    )
    raw = response.context["new_token"]
    token = OrganisationApiToken.objects.get()
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(OrganisationApiToken.objects.values())
    assert AuditEvent.objects.filter(action="api_token.created", object_id=str(token.pk)).exists()
    # Shown once only.
    page = client.get(reverse("accounts:org_tokens", args=[team.organisation.slug])).content.decode()
    assert raw not in page and token.prefix in page


def test_token_lists_members_invites_and_fetches_headshots(team, django_capture_on_commit_callbacks):
    _token, raw = teams.create_api_token(team.organisation, name="HR", actor=team.owner)
    api = Client(HTTP_AUTHORIZATION=f"Token {raw}")
    slug = team.organisation.slug
    members = api.get(reverse("org-members", args=[slug]))
    assert members.status_code == 200
    assert {row["email"]: row["status"] for row in members.json()}[team.member.email] == "joined"

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            reverse("org-invitations", args=[slug]),
            {"email": "hr-new@example.com"},
            content_type="application/json",
        )
    assert response.status_code == 201
    invitation = Invitation.objects.get(email="hr-new@example.com", organisation=team.organisation)
    event = AuditEvent.objects.get(action="invitation.created", object_id=str(invitation.pk))
    assert event.actor == f"api_token:{_token.pk}"
    statuses = {row["email"]: row["status"] for row in api.get(reverse("org-members", args=[slug])).json()}
    assert statuses["hr-new@example.com"] == "invited"

    response = api.post(
        reverse("org-invitations", args=[slug]), {"email": "nope"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"

    assert api.get(reverse("org-headshots", args=[slug])).json() == []


def test_a_token_is_scoped_to_its_organisation(team, other_team):
    _token, raw = teams.create_api_token(team.organisation, name="HR", actor=team.owner)
    api = Client(HTTP_AUTHORIZATION=f"Token {raw}")
    response = api.get(reverse("org-members", args=[other_team.organisation.slug]))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_revoked_or_wrong_tokens_are_refused(team):
    token, raw = teams.create_api_token(team.organisation, name="HR", actor=team.owner)
    verified_client(team.admin).post(
        reverse("accounts:org_token_revoke", args=[team.organisation.slug, token.pk])
    )
    response = Client(HTTP_AUTHORIZATION=f"Token {raw}").get(
        reverse("org-members", args=[team.organisation.slug])
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    response = Client(HTTP_AUTHORIZATION="Token ppo_made_up").get(
        reverse("org-members", args=[team.organisation.slug])
    )
    assert response.status_code == 401
    assert AuditEvent.objects.filter(action="api_token.revoked", object_id=str(token.pk)).exists()


def test_schema_documents_the_token_scheme(db):
    response = Client().get("/api/v1/schema/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "organisationToken" in body and "/api/v1/orgs/{slug}/members/" in body
