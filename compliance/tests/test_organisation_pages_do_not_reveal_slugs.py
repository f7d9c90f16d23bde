"""Organisation compliance pages answer an outsider exactly as they answer a slug that does not
exist (404), so they cannot be used to find out which organisations are customers."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from compliance.models import DpaAcceptance, SubprocessorObjection
from compliance.tests.conftest import otp_client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("compliance:dpa_pdf", "get"),
        ("compliance:dpa_accept", "post"),
        ("compliance:subprocessor_objection", "post"),
    ],
)
def test_an_outsider_gets_the_same_404_as_for_an_unknown_slug(team: Any, name: str, method: str) -> None:
    client = otp_client(team.outsider)
    existing = getattr(client, method)(reverse(name, args=[team.organisation.slug]), {"reason": "x"})
    unknown = getattr(client, method)(reverse(name, args=["no-such-organisation"]), {"reason": "x"})

    assert existing.status_code == unknown.status_code == 404
    assert team.organisation.name not in existing.content.decode()
    assert not DpaAcceptance.objects.exists() and not SubprocessorObjection.objects.exists()


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("compliance:dpa_pdf", "get"),
        ("compliance:dpa_accept", "post"),
        ("compliance:subprocessor_objection", "post"),
    ],
)
def test_a_member_without_the_role_is_still_told_it_is_forbidden(team: Any, name: str, method: str) -> None:
    response = getattr(otp_client(team.member), method)(reverse(name, args=[team.organisation.slug]))
    assert response.status_code == 403


def test_staff_outside_the_organisation_still_download_its_dpa(team: Any, staff: Any) -> None:
    response = otp_client(staff).get(reverse("compliance:dpa_pdf", args=[team.organisation.slug]))
    assert response.status_code == 200
