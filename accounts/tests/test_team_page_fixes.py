"""The admin's and member's pages: no Remind for yourself, Remove asks first, the invited address is
filled in, admins hear of a submission and members of an approval, the picker stays in its cards."""

from __future__ import annotations

import re

from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts import teams
from accounts.models import Membership
from accounts.tests.conftest import consent_act, first_alternative, logged_in_client, verified_client
from accounts.tests.test_teams import anonymous_job_for_member


def test_it_does_not_offer_the_owner_a_reminder_to_themself(team):
    html = verified_client(team.owner).get(reverse("accounts:org_dashboard", args=[team.organisation.slug]))
    page = html.content.decode()
    slug = team.organisation.slug
    assert reverse("accounts:org_member_remind", args=[slug, team.owner_membership.pk]) not in page
    assert reverse("accounts:org_member_remind", args=[slug, team.member_membership.pk]) in page


def test_remove_member_asks_first_and_works_without_javascript(team):
    client = verified_client(team.owner)
    url = reverse("accounts:org_member_remove", args=[team.organisation.slug, team.member_membership.pk])
    dashboard = client.get(reverse("accounts:org_dashboard", args=[team.organisation.slug])).content.decode()
    assert f'href="{url}"' in dashboard and f'action="{url}"' not in dashboard
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Remove Mia" in html and "cannot be undone" in html and 'method="post"' in html
    assert Membership.objects.filter(pk=team.member_membership.pk).exists()
    assert client.post(url).status_code == 302
    assert not Membership.objects.filter(pk=team.member_membership.pk).exists()


def test_a_member_cannot_open_the_remove_confirmation(team):
    url = reverse("accounts:org_member_remove", args=[team.organisation.slug, team.admin_membership.pk])
    assert verified_client(team.member).get(url).status_code == 404


def test_the_invited_address_is_filled_in_on_sign_up_and_log_in(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        teams.invite_member(team.organisation, email="new.person@example.com", invited_by=team.owner)
    link = re.search(r"https?://[^/\s]+(/\S+)", str(mail.outbox[0].body))
    assert link is not None
    browser = Client()
    assert browser.get(link.group(1)).status_code == 200
    for name in ("accounts:signup", "accounts:login"):
        html = browser.get(reverse(name)).content.decode()
        field = re.search(r'<input[^>]*name="email"[^>]*>', html)
        assert field is not None and 'value="new.person@example.com"' in field.group(0), name
    # Nobody else's browser gets it.
    assert "new.person@example.com" not in Client().get(reverse("accounts:signup")).content.decode()


def test_admins_hear_of_a_submission_and_the_member_of_the_approval(team, django_capture_on_commit_callbacks):
    teams.give_member_consent(team.member_membership, consent_act())
    job = anonymous_job_for_member(team)
    submission = team.member_membership.submissions.get()
    member = logged_in_client(team.member)
    with django_capture_on_commit_callbacks(execute=True):
        response = member.post(
            reverse("accounts:team_member", args=[team.organisation.slug]),
            {"action": "submit", "submission": submission.pk, "portrait": job.portraits.all()[0].pk},
        )
    assert response.status_code == 302
    to = sorted(address for message in mail.outbox for address in message.to)
    assert to == sorted([team.owner.email, team.admin.email])
    assert all("Mia submitted a headshot for" in message.subject for message in mail.outbox)
    dashboard = reverse("accounts:org_dashboard", args=[team.organisation.slug])
    assert dashboard in mail.outbox[0].body and dashboard in first_alternative(mail.outbox[0])

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        verified_client(team.admin).post(
            reverse("accounts:org_submission_approve", args=[team.organisation.slug, submission.pk])
        )
    assert [message.to for message in mail.outbox] == [[team.member.email]]
    assert "approved" in mail.outbox[0].subject
    assert reverse("accounts:team_member", args=[team.organisation.slug]) in mail.outbox[0].body


def test_the_member_page_updates_itself_while_generating(team):
    from django.test import TestCase

    from accounts.tests.conftest import face_bytes
    from portraits.services import ClientInfo

    teams.give_member_consent(team.member_membership, consent_act())
    with TestCase.captureOnCommitCallbacks(execute=False):
        submission = teams.start_member_job(
            team.member_membership, photo=face_bytes(), client=ClientInfo(ip="198.51.100.1")
        )
    html = logged_in_client(team.member).get(reverse("accounts:team_member", args=[team.organisation.slug]))
    page = html.content.decode()
    assert "This page updates by itself" in page
    assert "proportrait/team-member.js" in page
    assert f'data-status-url="/api/v1/jobs/{submission.job_id}/"' in page
