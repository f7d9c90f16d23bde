"""A second erasure request after the first has finished erases what was collected since.

A request is linked as a duplicate only to one still being worked on: a finished erasure says
nothing about data collected after it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import TestCase

from accounts.models import User
from compliance.models import DataSubjectRequest, DsarStatus
from compliance.tests.conftest import confirm_as_holder, consent_act, make_user

pytestmark = pytest.mark.django_db

EMAIL = "repeat@example.com"


def start_job(owner: Any) -> Any:
    from portraits.services import ClientInfo, create_job
    from tests.photos import face_jpeg

    with TestCase.captureOnCommitCallbacks(execute=False):  # no generation task
        created = create_job(
            photo=face_jpeg(),
            consent=consent_act(),
            client=ClientInfo(ip="203.0.113.9"),
            style_slug="corporate-grey",
            owner=owner,
            check_rate_limit=False,
        )
    return created.job


def ask_for_erasure(api_client: Any) -> DataSubjectRequest:
    response = api_client.post("/api/v1/dsar/", {"email": EMAIL, "request_type": "erasure"}, format="json")
    assert response.status_code == 202, response.content
    request_id = response.json()["id"]
    match = re.search(r"\b(\d{6})\b", str(mail.outbox[-1].body))
    assert match is not None
    verified = api_client.post(f"/api/v1/dsar/{request_id}/verify/", {"code": match.group(1)}, format="json")
    assert verified.status_code == 200, verified.content
    request = DataSubjectRequest.objects.get(pk=request_id)
    assert request.hold == "account_sign_in"  # her account: she confirms by signing in
    confirm_as_holder(User.objects.get(pk=request.matched_subject["user_id"]), request_id)
    request.refresh_from_db()
    return request


def test_a_new_erasure_request_erases_a_job_made_after_the_first_one_finished(
    api_client: Any, eager_celery: None
) -> None:
    from accounts.models import User
    from portraits.models import JobStatus, PortraitJob

    with time_machine.travel("2026-05-01 09:00Z", tick=False):
        first_job = start_job(make_user(EMAIL))
        first = ask_for_erasure(api_client)
    assert first.status == DsarStatus.COMPLETED
    assert PortraitJob.objects.get(pk=first_job.pk).status == JobStatus.DELETED

    # Ten days later she signs up again with the same address and makes a new portrait job.
    with time_machine.travel("2026-05-11 09:00Z", tick=False):
        second_job = start_job(make_user(EMAIL))
        second = ask_for_erasure(api_client)

    assert second.duplicate_of_id is None
    assert second.status == DsarStatus.COMPLETED and second.certificate_id is not None
    assert second.certificate is not None
    assert second.certificate.scope["erased"]["portraits"]["portrait_jobs"] >= 1
    job = PortraitJob.objects.get(pk=second_job.pk)
    assert job.status == JobStatus.DELETED and job.owner_id is None
    assert not User.objects.filter(email=EMAIL).exists()


def test_a_request_made_while_the_first_waits_is_processed_once_the_first_has_finished(
    api_client: Any, eager_celery: None, committed: Any
) -> None:
    from compliance import services
    from portraits.models import JobStatus, PortraitJob

    # An open (verified, manual) request is the one a repeat is linked to...
    with committed():
        open_request = services.create_request(email=EMAIL, request_type="erasure")
    DataSubjectRequest.objects.filter(pk=open_request.pk).update(status=DsarStatus.VERIFIED)
    with committed():
        repeat = services.create_request(email=EMAIL, request_type="erasure")
    assert repeat.duplicate_of_id == open_request.pk

    # ...but if that one finishes before the repeat is verified, the repeat runs on its own.
    DataSubjectRequest.objects.filter(pk=open_request.pk).update(status=DsarStatus.COMPLETED)
    job = start_job(make_user(EMAIL))
    code = re.search(r"\b(\d{6})\b", str(mail.outbox[-1].body))
    assert code is not None
    with committed():
        services.verify_request(repeat.pk, code.group(1))
    confirm_as_holder(User.objects.get(email=EMAIL), repeat.pk)

    repeat.refresh_from_db()
    assert repeat.duplicate_of_id is None and repeat.status == DsarStatus.COMPLETED
    assert PortraitJob.objects.get(pk=job.pk).status == JobStatus.DELETED
