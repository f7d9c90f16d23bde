"""A base of people for accounts and teams tests: owner, admin, member of one organisation,
an outsider, and a second organisation with its own owner, admin and member."""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Membership, Organisation, Role, User

PASSWORD = "correct horse battery staple 42"


def make_user(email: str, *, first_name: str = "", staff: bool = False) -> User:
    user = User(
        username=email, email=email, first_name=first_name, is_staff=staff, email_verified_at=timezone.now()
    )
    user.password = password_hash()
    user.save()
    return user


@functools.cache
def password_hash() -> str:
    # Argon2 is slow on purpose; hash the shared test password once per run.
    return make_password(PASSWORD)


@dataclass
class Team:
    organisation: Organisation
    owner: User
    admin: User
    member: User
    owner_membership: Membership
    admin_membership: Membership
    member_membership: Membership


def make_team(prefix: str, name: str) -> Team:
    organisation = Organisation.objects.create(name=name, slug=prefix, seats=10)
    owner = make_user(f"{prefix}-owner@example.com", first_name="Olive")
    admin = make_user(f"{prefix}-admin@example.com", first_name="Adam")
    member = make_user(f"{prefix}-member@example.com", first_name="Mia")
    return Team(
        organisation=organisation,
        owner=owner,
        admin=admin,
        member=member,
        owner_membership=Membership.objects.create(user=owner, organisation=organisation, role=Role.OWNER),
        admin_membership=Membership.objects.create(user=admin, organisation=organisation, role=Role.ADMIN),
        member_membership=Membership.objects.create(user=member, organisation=organisation, role=Role.MEMBER),
    )


@pytest.fixture
def team(db: Any) -> Team:
    return make_team("acme", "Acme & Co")


@pytest.fixture
def other_team(db: Any) -> Team:
    return make_team("globex", "Globex")


@pytest.fixture
def outsider(db: Any) -> User:
    return make_user("outsider@example.com", first_name="Otto")


def verified_client(user: User) -> Client:
    """A client logged in as `user` with a confirmed authenticator, second factor passed."""
    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def logged_in_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def first_alternative(message: EmailMessage) -> str:
    """The content of a sent email's first alternative part (the HTML body)."""
    assert isinstance(message, EmailMultiAlternatives), "email has no alternative parts"
    content = message.alternatives[0][0]
    assert isinstance(content, str)
    return content


@functools.cache
def face_bytes() -> bytes:
    """A real face photo (scikit-image's astronaut) as JPEG."""
    from PIL import Image
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture
def face_jpeg() -> bytes:
    return face_bytes()


def tiny_jpeg(colour: tuple[int, int, int] = (120, 140, 160), size: tuple[int, int] = (40, 50)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG")
    return buffer.getvalue()


def finish_job(job: Any, variants: int = 2) -> Any:
    """Stand in for the worker: claim, destroy the original, store small results. No generation runs."""
    from gpu_worker.schemas import Backend, GenerationResult, OutputFormat, PortraitImage
    from portraits import services

    services.claim_job(str(job.id))
    services.destroy_original(job)
    images = tuple(
        PortraitImage(
            variant=index,
            full=tiny_jpeg((100 + index * 20, 120, 140), (80, 100)),
            full_format=OutputFormat.JPEG,
            width=80,
            height=100,
            preview=tiny_jpeg(),
            preview_width=40,
            preview_height=50,
        )
        for index in range(variants)
    )
    assert services.complete_job(
        str(job.id), GenerationResult(job_id=str(job.id), backend=Backend.STUDIO, portraits=images)
    )
    job.refresh_from_db()
    return job


def consent_act(name: str = "Mia Member") -> Any:
    from compliance.models import ConsentKind
    from compliance.services import ConsentAct, current_document

    return ConsentAct(
        checked=True, signature_name=name, document_version=current_document(ConsentKind.BIOMETRIC).version
    )


def anonymous_job(face: bytes, owner: Any = None) -> Any:
    """A job made through the portraits service (generation not run), then finished by finish_job."""
    from django.test import TestCase

    from portraits.services import ClientInfo, create_job

    with TestCase.captureOnCommitCallbacks(execute=False):
        created = create_job(
            photo=face,
            consent=consent_act(),
            client=ClientInfo(ip="203.0.113.9"),
            style_slug="corporate-grey",
            owner=owner,
        )
    finish_job(created.job)
    return created
