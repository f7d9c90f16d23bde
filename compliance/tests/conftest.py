"""Fixtures for compliance tests: isolated storage and cache, eager Celery, people and organisations."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone
from pypdf import PdfReader

from compliance.services import ConsentAct, record_biometric_consent


def make_user(email: str, *, first_name: str = "", last_name: str = "", staff: bool = False) -> Any:
    from accounts.models import User

    user = User(
        username=email,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_staff=staff,
        email_verified_at=timezone.now(),
    )
    user.set_password("correct horse battery staple 42")
    user.save()
    return user


@dataclass
class Team:
    organisation: Any
    owner: Any
    admin: Any
    member: Any
    outsider: Any


@pytest.fixture
def team(db: Any) -> Team:
    from accounts.models import Membership, Organisation, Role

    organisation = Organisation.objects.create(name="Acme Widgets", slug="acme", seats=10)
    owner = make_user("owner@acme.example", first_name="Olive", last_name="Owner")
    admin = make_user("admin@acme.example", first_name="Adam", last_name="Admin")
    member = make_user("member@acme.example", first_name="Mia", last_name="Member")
    outsider = make_user("outsider@elsewhere.example", first_name="Otto")
    Membership.objects.create(user=owner, organisation=organisation, role=Role.OWNER)
    Membership.objects.create(user=admin, organisation=organisation, role=Role.ADMIN)
    Membership.objects.create(user=member, organisation=organisation, role=Role.MEMBER)
    return Team(organisation, owner, admin, member, outsider)


@pytest.fixture
def staff(db: Any) -> Any:
    return make_user("staff@proportrait.example", staff=True)


def consent_act(name: str = "Jane Q. Example", ip: str = "203.0.113.77") -> ConsentAct:
    return ConsentAct(
        checked=True, signature_name=name, document_version=None, ip=ip, user_agent="TestBrowser/1.0"
    )


def give_consent(*, job_id: Any = None, user: Any = None, name: str = "Jane Q. Example") -> Any:
    from compliance.models import ConsentSubjectType

    if user is not None:
        return record_biometric_consent(
            consent_act(name),
            subject_type=ConsentSubjectType.USER,
            subject_id=str(user.pk),
            user=user,
            job_id=job_id,
        )
    return record_biometric_consent(consent_act(name), subject_id=str(job_id), job_id=job_id)


def pdf_text(content: bytes) -> str:
    """All text of a PDF, whitespace collapsed, for asserting what a reader sees."""
    assert content.startswith(b"%PDF"), "not a PDF"
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join((page.extract_text() or "") for page in reader.pages).split())


def message_parts(message: Any) -> tuple[str, str]:
    """(text body, HTML body) of a sent email; both must exist."""
    html = [content for content, mime in message.alternatives if mime == "text/html"]
    assert html, "email has no HTML part"
    return message.body, html[0]


def otp_client(user: Any) -> Any:
    """A client logged in with a verified second factor (the admin and staff views require one)."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def staff_client(staff: Any) -> Any:
    staff.is_superuser = True
    staff.save()
    return otp_client(staff)


class CommittingClient:
    """Wraps a test client so that each request's on-commit callbacks (emails, tasks) run, as they
    would after a real request's transaction commits."""

    def __init__(self, client: Any, capture: Any) -> None:
        self._client, self._capture = client, capture

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name not in {"get", "post", "put", "patch", "delete"}:
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._capture(execute=True):
                return attribute(*args, **kwargs)

        return call


@pytest.fixture
def api_client(django_capture_on_commit_callbacks: Any) -> Any:
    from rest_framework.test import APIClient

    return CommittingClient(APIClient(), django_capture_on_commit_callbacks)


@pytest.fixture
def web_client(django_capture_on_commit_callbacks: Any) -> Any:
    from django.test import Client

    return CommittingClient(Client(), django_capture_on_commit_callbacks)


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Any:
    """`with committed():` runs the block's on-commit callbacks at its end."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def confirm_as_holder(user: Any, request_id: Any) -> Any:
    """The account holder signs in (second factor passed) and confirms a request made with their
    address; the confirmation's on-commit callbacks (the fulfilment task) run."""
    from django.test import TestCase

    client = otp_client(user)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(f"/privacy/requests/{request_id}/confirm/")
    assert response.status_code == 302, response.content
    return response
