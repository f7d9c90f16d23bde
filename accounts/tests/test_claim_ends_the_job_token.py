"""Once a job is claimed into an account, its anonymous bearer token no longer opens it."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from accounts.tests.conftest import anonymous_job, logged_in_client, make_user
from portraits.models import PortraitJob


def test_it_stops_the_old_token_from_reading_a_claimed_job(db, face_jpeg):
    created = anonymous_job(face_jpeg)
    url = f"/api/v1/jobs/{created.job.id}/"
    token_holder = Client()
    assert token_holder.get(url, HTTP_X_JOB_TOKEN=created.token).status_code == 200
    user = make_user("kim@example.com")
    owner = logged_in_client(user)

    response = owner.post(
        reverse("accounts:claim"), {"action": "token", "job_id": str(created.job.id), "token": created.token}
    )

    assert response.status_code == 302
    assert PortraitJob.objects.get(pk=created.job.pk).owner == user
    assert token_holder.get(url, HTTP_X_JOB_TOKEN=created.token).status_code == 404
    assert token_holder.delete(url, HTTP_X_JOB_TOKEN=created.token).status_code == 404
    assert owner.get(url).status_code == 200
    assert PortraitJob.objects.get(pk=created.job.pk).portraits.exists()


def test_it_stops_the_old_token_after_a_claim_through_the_api(db, face_jpeg):
    created = anonymous_job(face_jpeg)
    url = f"/api/v1/jobs/{created.job.id}/"
    owner = logged_in_client(make_user("kim@example.com"))

    response = owner.post(
        reverse("account-claim"),
        {"job_id": str(created.job.id), "token": created.token},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert Client().get(url, HTTP_X_JOB_TOKEN=created.token).status_code == 404
    assert owner.get(url).status_code == 200
