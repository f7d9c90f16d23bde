"""Claiming anonymous results, the account page, export and account deletion."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, User
from accounts.tests.conftest import PASSWORD, anonymous_job, first_alternative, logged_in_client, make_user
from compliance.models import AuditEvent, DeletionCertificate
from portraits.models import JobStatus, PortraitJob

# Account mails are sent by the worker (in-process here).
pytestmark = pytest.mark.usefixtures("eager_celery")


def test_claim_with_the_same_browser_session(db, face_jpeg):
    created = anonymous_job(face_jpeg)
    client = Client()
    session = client.session
    session["portrait_jobs"] = [str(created.job.id)]
    session.save()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(reverse("accounts:signup"), {"email": "kim@example.com", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")
    # Sign-up signs nobody in; the verified address does, and the session's jobs are still there.
    verify = re.search(r"http://\S+(/accounts/verify/\S+/)", str(mail.outbox[-1].body))
    assert verify is not None
    client.get(verify.group(1))
    response = client.post(reverse("accounts:login"), {"email": "kim@example.com", "password": PASSWORD})
    assert response.status_code == 302
    page = client.get(reverse("accounts:claim")).content.decode()
    assert str(created.job.id) in page
    response = client.post(reverse("accounts:claim"), {"action": "session", "job_id": str(created.job.id)})
    assert response.status_code == 302
    job = PortraitJob.objects.get(pk=created.job.pk)
    user = User.objects.get(email="kim@example.com")
    assert job.owner == user
    assert job.original_deleted_at is not None  # the original was never part of what moves
    assert job.expires_at > timezone.now() + timedelta(days=80)
    assert AuditEvent.objects.filter(
        action="job.claimed", object_id=str(job.pk), actor=f"user:{user.pk}"
    ).exists()


def test_claim_with_the_job_token(db, face_jpeg):
    created = anonymous_job(face_jpeg)
    user = make_user("kim@example.com")
    client = logged_in_client(user)
    response = client.post(
        reverse("accounts:claim"), {"action": "token", "job_id": str(created.job.id), "token": "wrong"}
    )
    assert response.status_code == 400
    response = client.post(
        reverse("accounts:claim"), {"action": "token", "job_id": str(created.job.id), "token": created.token}
    )
    assert response.status_code == 302
    assert PortraitJob.objects.get(pk=created.job.pk).owner == user


def test_claim_through_the_api(db, face_jpeg):
    created = anonymous_job(face_jpeg)
    user = make_user("kim@example.com")
    client = logged_in_client(user)
    url = reverse("account-claim")
    response = client.post(
        url, {"job_id": str(created.job.id), "token": created.token}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["id"] == str(created.job.id)


def test_a_job_from_another_session_or_already_owned_cannot_be_claimed(db, face_jpeg):
    owner = make_user("first@example.com")
    created = anonymous_job(face_jpeg, owner=owner)
    thief = logged_in_client(make_user("thief@example.com"))
    # Not in the thief's session.
    response = thief.post(reverse("accounts:claim"), {"action": "session", "job_id": str(created.job.id)})
    assert response.status_code == 404
    # Even with the token, an owned job is never taken over.
    response = thief.post(
        reverse("accounts:claim"), {"action": "token", "job_id": str(created.job.id), "token": created.token}
    )
    assert response.status_code == 400
    assert PortraitJob.objects.get(pk=created.job.pk).owner == owner


def test_account_page_lists_portraits_with_expiry_and_download(db, face_jpeg):
    user = make_user("kim@example.com")
    created = anonymous_job(face_jpeg, owner=user)
    page = logged_in_client(user).get(reverse("accounts:home")).content.decode()
    assert "Deleted automatically on" in page
    assert page.count("Download") >= 2
    assert f'href="/jobs/{created.job.id}/delete/"' in page  # Delete now asks for confirmation first


def test_retention_choice_within_policy(db, face_jpeg, settings):
    user = make_user("kim@example.com")
    created = anonymous_job(face_jpeg, owner=user)
    client = logged_in_client(user)
    url = reverse("accounts:job_retention", args=[created.job.id])
    client.post(url, {"days": "30"})
    job = PortraitJob.objects.get(pk=created.job.pk)
    assert abs((job.expires_at - (job.created_at + timedelta(days=30))).total_seconds()) < 1
    # Longer than the account policy allows: refused, expiry unchanged.
    client.post(url, {"days": str(settings.PROPORTRAIT_ACCOUNT_RETENTION_DAYS + 100)})
    assert PortraitJob.objects.get(pk=created.job.pk).expires_at == job.expires_at


def test_delete_one_job(db, face_jpeg):
    user = make_user("kim@example.com")
    created = anonymous_job(face_jpeg, owner=user)
    response = logged_in_client(user).post(reverse("accounts:job_delete", args=[created.job.id]))
    assert response.status_code == 302
    job = PortraitJob.objects.get(pk=created.job.pk)
    assert job.status == JobStatus.DELETED
    assert job.portraits.count() == 0


def test_export_all_my_data(db, face_jpeg):
    user = make_user("kim@example.com")
    anonymous_job(face_jpeg, owner=user)
    response = logged_in_client(user).post(reverse("accounts:export"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    data = json.loads(archive.read("data.json"))
    assert "kim@example.com" in json.dumps(data)


def test_delete_my_account_erases_everything_and_emails_a_certificate(db, face_jpeg, team):
    user = team.member
    created = anonymous_job(face_jpeg, owner=user)
    client = logged_in_client(user)
    response = client.post(reverse("accounts:delete"), {"password": "not my password"})
    assert response.status_code == 400
    response = client.post(reverse("accounts:delete"), {"password": PASSWORD})
    assert response.status_code == 200
    assert not User.objects.filter(pk=user.pk).exists()
    assert not Membership.objects.filter(pk=team.member_membership.pk).exists()
    job = PortraitJob.objects.get(pk=created.job.pk)
    assert job.status == JobStatus.DELETED and job.owner_id is None
    certificate = DeletionCertificate.objects.get(reason="account_deletion")
    message = mail.outbox[-1]
    assert message.to == [team.member.email]
    assert str(certificate.id) in message.body
    assert str(certificate.id) in first_alternative(message)
    assert "crypto-shredding" in message.body
    assert client.get(reverse("accounts:home")).status_code == 302


def test_the_only_owner_cannot_delete_their_account(team):
    client = logged_in_client(team.owner)
    response = client.post(reverse("accounts:delete"), {"password": PASSWORD})
    assert response.status_code == 400
    assert User.objects.filter(pk=team.owner.pk).exists()
