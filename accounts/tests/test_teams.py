"""Teams: invitations, the member journey, approvals, the ZIP export, retention, removal, deletion."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import timedelta

import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import teams
from accounts.models import (
    Invitation,
    Membership,
    MemberStatus,
    Organisation,
    SubmissionStatus,
    TeamSubmission,
)
from accounts.tests.conftest import (
    PASSWORD,
    finish_job,
    first_alternative,
    logged_in_client,
    make_user,
    verified_client,
)
from compliance.models import AuditEvent, ConsentRecord, ConsentSubjectType, DeletionCertificate
from portraits.models import JobStatus, PortraitJob


def invitation_link(message) -> str:
    match = re.search(r"http://\S+(/accounts/invitations/\S+/)", message.body)
    assert match is not None
    assert match.group(1) in first_alternative(message)
    return match.group(1)


def test_invite_one_person_by_email(team, django_capture_on_commit_callbacks):
    client = verified_client(team.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:org_invite", args=[team.organisation.slug]),
            {"email": "new@example.com", "role": "member"},
        )
    assert response.status_code == 302
    invitation = Invitation.objects.get(email="new@example.com")
    message = mail.outbox[0]
    assert message.subject == "Acme & Co invites you to make your professional headshot"  # not HTML-escaped
    assert "Acme &amp; Co" in first_alternative(message)
    assert "never sees your original photo" in message.body
    assert len(invitation.token_hash) == 64 and invitation.token_hash not in message.body
    event = AuditEvent.objects.get(action="invitation.created")
    assert "new@example.com" not in str(event.data)


def test_csv_upload_reports_every_row(team, django_capture_on_commit_callbacks):
    rows = "email,role\nann@example.com,member\nnot-an-email,member\nann@example.com,member\n"
    rows += f"{team.member.email},member\nbob@example.com,admin\n"
    client = verified_client(team.owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:org_invite_csv", args=[team.organisation.slug]),
            {"csv_file": SimpleUploadedFile("people.csv", rows.encode(), content_type="text/csv")},
        )
    assert response.status_code == 200
    reports = response.context["reports"]
    assert [(r.line, r.ok) for r in reports] == [(2, True), (3, False), (4, False), (5, False), (6, True)]
    page = response.content.decode()
    assert "Not a valid email address." in page
    assert "Duplicate of an earlier row." in page
    assert "already a member" in page
    assert sorted(m.to[0] for m in mail.outbox) == ["ann@example.com", "bob@example.com"]


def test_seats_limit_invitations(team):
    team.organisation.seats = 4
    team.organisation.save()
    teams.invite_member(team.organisation, email="one@example.com", invited_by=team.owner)
    try:
        teams.invite_member(team.organisation, email="two@example.com", invited_by=team.owner)
    except teams.TeamError as error:
        assert "seats" in str(error)
    else:
        raise AssertionError("a fifth seat was handed out")


def test_invitation_link_is_single_use_and_expires(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        teams.invite_member(team.organisation, email="new@example.com", invited_by=team.admin)
    link = invitation_link(mail.outbox[0])
    newcomer = make_user("new@example.com")
    client = logged_in_client(newcomer)
    assert client.post(link).status_code == 302
    assert Membership.objects.filter(user=newcomer, organisation=team.organisation).exists()
    assert client.get(link).status_code == 404  # used

    with django_capture_on_commit_callbacks(execute=True):
        teams.invite_member(team.organisation, email="late@example.com", invited_by=team.admin)
    late_link = invitation_link(mail.outbox[-1])
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        assert logged_in_client(make_user("late@example.com")).get(late_link).status_code == 404


def test_invitation_for_another_address_is_refused(team, django_capture_on_commit_callbacks, outsider):
    with django_capture_on_commit_callbacks(execute=True):
        teams.invite_member(team.organisation, email="new@example.com", invited_by=team.admin)
    link = invitation_link(mail.outbox[0])
    logged_in_client(outsider).post(link)
    assert not Membership.objects.filter(user=outsider).exists()


def test_resend_gives_a_fresh_link_and_revoke_kills_it(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = teams.invite_member(team.organisation, email="new@example.com", invited_by=team.admin)
    old_link = invitation_link(mail.outbox[0])
    client = verified_client(team.admin)
    slug = team.organisation.slug
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:org_invitation_resend", args=[slug, invitation.pk]))
    new_link = invitation_link(mail.outbox[1])
    assert old_link != new_link
    assert Client().get(old_link).status_code == 404
    assert Client().get(new_link).status_code == 200
    client.post(reverse("accounts:org_invitation_revoke", args=[slug, invitation.pk]))
    assert Client().get(new_link).status_code == 404


def upload_as_member(client: Client, slug: str, face: bytes, captured) -> TeamSubmission:
    with captured(execute=False):
        response = client.post(
            reverse("accounts:team_member", args=[slug]),
            {"action": "upload", "photo": SimpleUploadedFile("me.jpg", face, content_type="image/jpeg")},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    return TeamSubmission.objects.latest("created_at")


def consent_as_member(client: Client, slug: str) -> None:
    from compliance.models import ConsentKind
    from compliance.services import current_document

    version = current_document(ConsentKind.BIOMETRIC).version
    response = client.post(
        reverse("accounts:team_member", args=[slug]),
        {"action": "consent", "consent": "on", "signature": "Mia Member", "consent_version": version},
    )
    assert response.status_code == 302


def test_member_journey_to_approval_and_zip_export(team, face_jpeg, django_capture_on_commit_callbacks):
    slug = team.organisation.slug
    member = logged_in_client(team.member)
    # Upload is refused before the member's own consent.
    page = member.get(reverse("accounts:team_member", args=[slug])).content.decode()
    assert "I consent" in page and 'name="photo"' not in page

    consent_as_member(member, slug)
    record = ConsentRecord.objects.get(subject_type=ConsentSubjectType.MEMBER)
    assert record.user == team.member  # the member consents, never the employer
    assert Membership.objects.get(pk=team.member_membership.pk).status == MemberStatus.CONSENTED

    submission = upload_as_member(member, slug, face_jpeg, django_capture_on_commit_callbacks)
    job = submission.job
    assert job.owner == team.member
    assert job.style_spec["slug"] == f"org-{slug}"
    assert job.style_spec["prompt"].startswith("professional corporate headshot, dark business suit")
    expected = job.created_at + timedelta(days=team.organisation.unapproved_retention_days)
    assert abs((job.expires_at - expected).total_seconds()) < 1
    finish_job(job)

    page = member.get(reverse("accounts:team_member", args=[slug])).content.decode()
    assert "Pick your favourite" in page
    favourite = job.portraits.order_by("variant").last()
    assert favourite is not None
    response = member.post(
        reverse("accounts:team_member", args=[slug]),
        {"action": "submit", "submission": submission.pk, "portrait": str(favourite.pk)},
    )
    assert response.status_code == 302
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.SUBMITTED and submission.favourite == favourite

    admin = verified_client(team.admin)
    dashboard = admin.get(reverse("accounts:org_dashboard", args=[slug])).content.decode()
    assert "submitted" in dashboard and "Approve" in dashboard
    admin.post(reverse("accounts:org_submission_approve", args=[slug, submission.pk]))
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.APPROVED
    job.refresh_from_db()
    assert job.expires_at > timezone.now() + timedelta(days=360)  # 12 months approved retention

    response = admin.get(reverse("accounts:org_export", args=[slug]))
    assert response.status_code == 200
    archive = zipfile.ZipFile(
        io.BytesIO(
            # The client hands back whichever response the view made; the stubs type it as non-streaming.
            b"".join(response.streaming_content)  # type: ignore[attr-defined]
            if response.streaming
            else response.content
        )
    )
    manifest = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))
    assert [row["email"] for row in manifest] == [team.member.email]
    assert manifest[0]["name"] == "Mia"
    assert manifest[0]["approved_at"]
    assert archive.read(manifest[0]["file"])[:2] == b"\xff\xd8"  # the full-resolution JPEG
    assert not any(name.startswith("original") for name in archive.namelist())


def test_admin_asks_for_a_redo(team, face_jpeg, django_capture_on_commit_callbacks):
    slug = team.organisation.slug
    member = logged_in_client(team.member)
    consent_as_member(member, slug)
    submission = upload_as_member(member, slug, face_jpeg, django_capture_on_commit_callbacks)
    finish_job(submission.job)
    first = submission.job.portraits.first()
    assert first is not None
    teams.submit_favourite(submission, first.pk)
    with django_capture_on_commit_callbacks(execute=True):
        verified_client(team.owner).post(
            reverse("accounts:org_submission_redo", args=[slug, submission.pk]),
            {"note": "Please face the camera"},
        )
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.REDO
    message = mail.outbox[-1]
    assert message.to == [team.member.email]
    assert "Please face the camera" in message.body and "Please face the camera" in first_alternative(message)
    page = member.get(reverse("accounts:team_member", args=[slug])).content.decode()
    assert "Try another photo" in page


def test_reminder_email(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        verified_client(team.admin).post(
            reverse("accounts:org_member_remind", args=[team.organisation.slug, team.member_membership.pk])
        )
    message = mail.outbox[0]
    assert message.to == [team.member.email]
    assert "Reminder" in message.subject
    assert "/accounts/teams/acme/" in message.body and "/accounts/teams/acme/" in first_alternative(message)


def approved_submission(team) -> TeamSubmission:
    from accounts.tests.conftest import anonymous_job, consent_act

    teams.give_member_consent(team.member_membership, consent_act())
    job = anonymous_job_for_member(team)
    submission = TeamSubmission.objects.get(job=job)
    first = job.portraits.first()
    assert first is not None
    teams.submit_favourite(submission, first.pk)
    teams.approve_submission(submission, reviewer=team.admin)
    _ = anonymous_job
    return submission


def anonymous_job_for_member(team) -> PortraitJob:
    from django.test import TestCase

    from accounts.tests.conftest import face_bytes
    from portraits.services import ClientInfo

    with TestCase.captureOnCommitCallbacks(execute=False):
        submission = teams.start_member_job(
            team.member_membership, photo=face_bytes(), client=ClientInfo(ip="198.51.100.1")
        )
    return finish_job(submission.job)


def test_retention_policy_change_moves_expiry_and_the_purge_enforces_it(team):
    from portraits.services import purge_expired_results

    submission = approved_submission(team)
    pending = anonymous_job_for_member(team)  # a second, unapproved attempt
    organisation = Organisation.objects.get(pk=team.organisation.pk)
    organisation.approved_retention_months = 1
    organisation.unapproved_retention_days = 2
    teams.update_organisation(
        organisation, actor=team.owner, changed=["approved_retention_months", "unapproved_retention_days"]
    )
    pending.refresh_from_db()
    assert pending.expires_at == pending.created_at + timedelta(days=2)
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        purge_expired_results()
    assert PortraitJob.objects.get(pk=pending.pk).status == JobStatus.DELETED
    assert PortraitJob.objects.get(pk=submission.job_id).status == JobStatus.DONE
    with time_machine.travel(timezone.now() + timedelta(days=32)):
        purge_expired_results()
    assert PortraitJob.objects.get(pk=submission.job_id).status == JobStatus.DELETED


def test_removing_a_member_erases_their_team_data(team):
    submission = approved_submission(team)
    verified_client(team.admin).post(
        reverse("accounts:org_member_remove", args=[team.organisation.slug, team.member_membership.pk])
    )
    assert not Membership.objects.filter(pk=team.member_membership.pk).exists()
    assert PortraitJob.objects.get(pk=submission.job_id).status == JobStatus.DELETED
    assert not TeamSubmission.objects.filter(pk=submission.pk).exists()
    assert team.member.__class__.objects.filter(pk=team.member.pk).exists()  # their account stays


def test_deleting_the_organisation_erases_everything_with_a_certificate(team):
    submission = approved_submission(team)
    client = verified_client(team.owner)
    slug = team.organisation.slug
    assert client.get(reverse("accounts:org_delete", args=[slug])).status_code == 200
    response = client.post(reverse("accounts:org_delete", args=[slug]), {"password": PASSWORD})
    assert response.status_code == 200
    assert not Organisation.objects.filter(pk=team.organisation.pk).exists()
    assert PortraitJob.objects.get(pk=submission.job_id).status == JobStatus.DELETED
    certificate = DeletionCertificate.objects.get(reason__startswith="organisation_deleted")
    message = mail.outbox[-1]
    assert message.to == [team.owner.email]
    assert str(certificate.id) in message.body and str(certificate.id) in first_alternative(message)
    # Admins may not delete; only the owner.
