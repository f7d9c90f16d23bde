"""Who may read or change what: anonymous, outsider, member, admin and owner against every page
and API endpoint of accounts, teams and portraits. No one reads or changes what is not theirs;
ids from another organisation give 404, never 403 (which would confirm they exist)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client, TestCase
from django.urls import reverse

from accounts import teams
from accounts.models import Invitation, Membership, OrganisationApiToken, TeamSubmission
from accounts.tests.conftest import (
    Team,
    consent_act,
    face_bytes,
    finish_job,
    make_team,
    make_user,
    verified_client,
)
from portraits.models import JobStatus, PortraitJob
from portraits.services import ClientInfo

ROLES = ["anonymous", "outsider", "member", "admin", "owner"]


@dataclass
class World:
    acme: Team
    globex: Team
    outsider: Any
    objects: dict[str, dict[str, Any]]


def submitted(team: Team) -> TeamSubmission:
    teams.give_member_consent(team.member_membership, consent_act())
    with TestCase.captureOnCommitCallbacks(execute=False):
        submission = teams.start_member_job(team.member_membership, photo=face_bytes(), client=ClientInfo())
    finish_job(submission.job)
    first = submission.job.portraits.first()
    assert first is not None
    teams.submit_favourite(submission, first.pk)
    return submission


def objects_of(team: Team) -> dict[str, Any]:
    with TestCase.captureOnCommitCallbacks(execute=False):
        invitation = teams.invite_member(
            team.organisation, email=f"inv-{team.organisation.slug}@example.com", invited_by=team.owner
        )
    token, _raw = teams.create_api_token(team.organisation, name="HR", actor=team.owner)
    extra = make_user(f"extra-{team.organisation.slug}@example.com")
    extra_membership = Membership.objects.create(user=extra, organisation=team.organisation)
    return {
        "invitation": invitation,
        "token": token,
        "submission": submitted(team),
        "extra_membership": extra_membership,
    }


@pytest.fixture
def world(db: Any) -> World:
    acme = make_team("acme", "Acme")
    globex = make_team("globex", "Globex")
    return World(
        acme,
        globex,
        make_user("outsider@example.com"),
        {"acme": objects_of(acme), "globex": objects_of(globex)},
    )


def client_for(world: World, role: str) -> Client:
    if role == "anonymous":
        return Client()
    user = world.outsider if role == "outsider" else getattr(world.acme, role)
    # Everyone has passed 2FA here: what is tested is authorisation, not authentication.
    return verified_client(user)


def expect_denied(response: Any, role: str) -> None:
    if role == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], response
    else:
        assert response.status_code == 404, (response.status_code, response.get("Location"))


@pytest.mark.parametrize("role", ROLES)
def test_account_pages_are_for_the_signed_in_person_only(world, role):
    client = client_for(world, role)
    for name in [
        "accounts:home",
        "accounts:claim",
        "accounts:two_factor",
        "accounts:delete",
        "accounts:org_create",
    ]:
        response = client.get(reverse(name))
        if role == "anonymous":
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], name
        else:
            assert response.status_code == 200, name
    response = client.get(reverse("account"))
    assert response.status_code == (403 if role == "anonymous" else 200)


@pytest.mark.parametrize("role", ROLES)
def test_other_peoples_jobs_are_404_everywhere(world, role):
    """The member's team job, seen by everyone else: job page, job API, account actions."""
    job = world.objects["acme"]["submission"].job
    client = client_for(world, role)
    allowed = role == "member"
    for url in [reverse("portraits:job", args=[job.id]), f"/api/v1/jobs/{job.id}/"]:
        assert client.get(url).status_code == (200 if allowed else 404), (url, role)
    for name in ["accounts:job_retention", "accounts:job_delete"]:
        response = client.post(reverse(name, args=[job.id]), {"days": "30"})
        if role == "anonymous":
            assert response.status_code == 302
        else:
            # Team jobs follow the organisation's policy: not even their owner changes them here.
            assert response.status_code == 404, (name, role)
    assert PortraitJob.objects.get(pk=job.pk).status == JobStatus.DONE
    assert client.delete(f"/api/v1/jobs/{job.id}/").status_code == (204 if allowed else 404)


@pytest.mark.parametrize("role", ROLES)
def test_member_page(world, role):
    response = client_for(world, role).get(reverse("accounts:team_member", args=["acme"]))
    if role in {"member", "admin", "owner"}:
        assert response.status_code == 200
    else:
        expect_denied(response, role)
    # Nobody from acme has a member page at globex.
    response = client_for(world, role).get(reverse("accounts:team_member", args=["globex"]))
    expect_denied(response, role)


ADMIN_PAGES = [
    "accounts:org_dashboard",
    "accounts:org_settings",
    "accounts:org_tokens",
    "accounts:org_export",
]


@pytest.mark.parametrize("role", ROLES)
def test_admin_pages(world, role):
    client = client_for(world, role)
    for name in ADMIN_PAGES:
        response = client.get(reverse(name, args=["acme"]))
        if role in {"admin", "owner"}:
            assert response.status_code == 200, name
        else:
            expect_denied(response, role)
        expect_denied(client.get(reverse(name, args=["globex"])), role)
    response = client.get(reverse("accounts:org_delete", args=["acme"]))
    if role == "owner":
        assert response.status_code == 200
    else:
        expect_denied(response, role)


def admin_actions(objects: dict[str, Any]) -> list[tuple[str, list[Any], dict[str, str]]]:
    return [
        ("accounts:org_submission_approve", [objects["submission"].pk], {}),
        ("accounts:org_submission_redo", [objects["submission"].pk], {"note": "again"}),
        ("accounts:org_invitation_resend", [objects["invitation"].pk], {}),
        ("accounts:org_invitation_revoke", [objects["invitation"].pk], {}),
        ("accounts:org_member_remind", [objects["extra_membership"].pk], {}),
        ("accounts:org_token_revoke", [objects["token"].pk], {}),
        ("accounts:org_member_remove", [objects["extra_membership"].pk], {}),
    ]


def snapshot(objects: dict[str, Any]) -> tuple[Any, ...]:
    return (
        TeamSubmission.objects.get(pk=objects["submission"].pk).status,
        Invitation.objects.get(pk=objects["invitation"].pk).revoked_at,
        Invitation.objects.get(pk=objects["invitation"].pk).send_count,
        OrganisationApiToken.objects.get(pk=objects["token"].pk).revoked_at,
        Membership.objects.filter(pk=objects["extra_membership"].pk).exists(),
    )


@pytest.mark.parametrize("role", ROLES)
def test_admin_actions_and_cross_organisation_ids(world, role):
    client = client_for(world, role)
    globex_before = snapshot(world.objects["globex"])
    # Globex's object ids through acme's URLs, and globex's own URLs: 404 for everyone here.
    for name, args, data in admin_actions(world.objects["globex"]):
        expect_denied(client.post(reverse(name, args=["acme", *args]), data), role)
        expect_denied(client.post(reverse(name, args=["globex", *args]), data), role)
    expect_denied(
        client.post(reverse("accounts:org_invite", args=["globex"]), {"email": "x@example.com"}), role
    )
    assert snapshot(world.objects["globex"]) == globex_before

    acme_before = snapshot(world.objects["acme"])
    for name, args, data in admin_actions(world.objects["acme"]):
        response = client.post(reverse(name, args=["acme", *args]), data)
        if role in {"admin", "owner"}:
            assert response.status_code == 302 and "/login/" not in response["Location"], name
        else:
            expect_denied(response, role)
    if role in {"admin", "owner"}:
        assert snapshot(world.objects["acme"]) != acme_before
    else:
        assert snapshot(world.objects["acme"]) == acme_before


@pytest.mark.parametrize("role", ROLES)
def test_organisation_api(world, role):
    client = client_for(world, role)
    for name in ["org-members", "org-headshots", "org-headshots-export"]:
        for slug in ["acme", "globex"]:
            response = client.get(reverse(name, args=[slug]))
            if role == "anonymous":
                assert response.status_code == 401, (name, slug)
            elif role in {"admin", "owner"} and slug == "acme":
                assert response.status_code == 200, (name, slug)
            else:
                assert response.status_code == 404, (name, slug, role)
                assert response.json()["error"]["code"] == "not_found"
    response = client.post(
        reverse("org-invitations", args=["globex"]),
        {"email": "x@example.com"},
        content_type="application/json",
    )
    assert response.status_code in ({401} if role == "anonymous" else {403, 404})
    assert not Invitation.objects.filter(email="x@example.com").exists()


def test_an_admin_without_a_second_factor_gets_no_organisation_api(world):
    client = Client()
    client.force_login(world.acme.admin)
    response = client.get(reverse("org-members", args=["acme"]))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "two_factor_required"


# --- Organisation and compliance pages: the second factor wherever we promise it.

COMPLIANCE_ACTIONS = [
    ("get", "compliance:dpa_pdf", {}),
    ("post", "compliance:dpa_accept", {}),
    ("post", "compliance:subprocessor_objection", {"reason": "We object to the new host."}),
]


def compliance_evidence() -> tuple[int, int]:
    from compliance.models import DpaAcceptance, SubprocessorObjection

    return DpaAcceptance.objects.count(), SubprocessorObjection.objects.count()


@pytest.mark.parametrize("role", ["admin", "owner", "staff"])
def test_a_password_alone_reaches_no_organisation_or_compliance_page(world, role):
    """Found: an admin without 2FA downloaded and accepted the DPA and objected to a sub-processor;
    a staff account signed in with a password only downloaded every organisation's DPA."""
    from compliance.services import publish_subprocessor_register

    publish_subprocessor_register(change_summary="Initial register", actor="staff:test")
    user = make_user("staff-pw@example.com", staff=True) if role == "staff" else getattr(world.acme, role)
    client = Client()
    client.force_login(user)
    before = compliance_evidence()
    for slug in ["acme", "globex"]:
        for method, name, data in COMPLIANCE_ACTIONS:
            response = getattr(client, method)(reverse(name, args=[slug]), data)
            assert response.status_code == 302, (name, slug, response.status_code)
            assert (
                "/accounts/login/code/" in response["Location"]
                or "/accounts/security/" in response["Location"]
            ), (name, response["Location"])
    assert compliance_evidence() == before


@pytest.mark.parametrize("role", ROLES)
def test_compliance_pages_with_the_second_factor_follow_the_roles(world, role):
    from compliance.services import publish_subprocessor_register

    publish_subprocessor_register(change_summary="Initial register", actor="staff:test")
    client = client_for(world, role)
    before = compliance_evidence()
    for method, name, data in COMPLIANCE_ACTIONS:
        response = getattr(client, method)(reverse(name, args=["acme"]), data)
        if role in {"admin", "owner"}:
            assert response.status_code in {200, 302}, (name, response.status_code)
            assert "/login/" not in response.get("Location", "")
        elif role == "anonymous":
            assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        else:
            assert response.status_code in {403, 404}, (name, role, response.status_code)
        other = getattr(client, method)(reverse(name, args=["globex"]), data)
        assert other.status_code in ({302} if role == "anonymous" else {404}), (name, role)
    expected = (before[0] + 1, before[1] + 1) if role in {"admin", "owner"} else before
    assert compliance_evidence() == expected
