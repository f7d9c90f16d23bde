"""A job's bearer token given in a data rights request is resolved on receipt and never stored:
staff (and anyone who reads the table or a backup) see which job it proved, not the key to it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import TestCase
from django.urls import reverse

from compliance.models import AuditEvent, DataSubjectRequest, DsarStatus
from compliance.tests.conftest import consent_act

pytestmark = pytest.mark.django_db


def anonymous_job() -> Any:
    from portraits.services import ClientInfo, create_job
    from tests.photos import face_jpeg

    with TestCase.captureOnCommitCallbacks(execute=False):  # no generation task
        return create_job(
            photo=face_jpeg(),
            consent=consent_act(),
            client=ClientInfo(ip="203.0.113.9"),
            style_slug="corporate-grey",
            check_rate_limit=False,
        )


def test_the_token_is_in_no_column_and_the_job_it_proves_is_still_erased(
    api_client: Any, staff_client: Any, eager_celery: None
) -> None:
    from portraits.models import JobStatus, PortraitJob

    created = anonymous_job()
    response = api_client.post(
        "/api/v1/dsar/",
        {"email": "anon@example.com", "request_type": "erasure", "job_reference": f"  {created.token} "},
        format="json",
    )
    assert response.status_code == 202
    request = DataSubjectRequest.objects.get(pk=response.json()["id"])

    row = DataSubjectRequest.objects.filter(pk=request.pk).values().get()
    assert not [name for name, value in row.items() if created.token in str(value)]
    assert request.proven_job_id == str(created.job.pk)
    assert created.token not in str(list(AuditEvent.objects.values()))
    page = staff_client.get(reverse("admin:compliance_datasubjectrequest_change", args=[request.pk]))
    assert page.status_code == 200 and created.token not in page.content.decode()

    match = re.search(r"\b(\d{6})\b", str(mail.outbox[-1].body))
    assert match is not None
    verified = api_client.post(f"/api/v1/dsar/{request.pk}/verify/", {"code": match.group(1)}, format="json")
    assert verified.status_code == 200
    request.refresh_from_db()
    assert request.status == DsarStatus.COMPLETED and request.proven_job_id == ""
    assert PortraitJob.objects.get(pk=created.job.pk).status == JobStatus.DELETED


def test_a_token_that_proves_nothing_leaves_nothing_behind(api_client: Any) -> None:
    response = api_client.post(
        "/api/v1/dsar/",
        {"email": "anon@example.com", "request_type": "access", "job_reference": "guessed-token-123"},
        format="json",
    )
    row = DataSubjectRequest.objects.filter(pk=response.json()["id"]).values().get()
    assert "guessed-token-123" not in str(row) and row["proven_job_id"] == ""
