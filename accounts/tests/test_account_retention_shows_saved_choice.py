"""The account page's "Keep for" drop-down shows the period that was saved, not the first one."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.tests.conftest import anonymous_job, logged_in_client, make_user
from portraits.models import PortraitJob


def selected_days(html: str, job_id: object) -> list[str]:
    select = re.search(rf'<select name="days" id="days-{job_id}">(.*?)</select>', html, re.S)
    assert select is not None
    return re.findall(r'<option value="(\d+)" selected>', select.group(1))


@pytest.mark.parametrize("days", ["30", "90"])
def test_it_selects_the_saved_retention(db, face_jpeg, days):
    user = make_user("kim@example.com")
    created = anonymous_job(face_jpeg, owner=user)
    client = logged_in_client(user)
    client.post(reverse("accounts:job_retention", args=[created.job.id]), {"days": days})
    html = client.get(reverse("accounts:home")).content.decode()
    assert selected_days(html, created.job.id) == [days]


def test_failed_and_deleted_jobs_offer_no_retention_choice(db, face_jpeg):
    user = make_user("kim@example.com")
    created = anonymous_job(face_jpeg, owner=user)
    PortraitJob.objects.filter(pk=created.job.pk).update(status="failed")
    html = logged_in_client(user).get(reverse("accounts:home")).content.decode()
    assert f'id="days-{created.job.id}"' not in html
