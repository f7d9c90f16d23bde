"""The end-to-end promise: an erasure request for a person with an account, a team membership,
consent records and portraits leaves nothing about them but the minimal audit record.

Every table (django.apps.apps.get_models()) and the storage folder are searched afterwards.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.test import TestCase

from compliance.models import AuditEvent, DataSubjectRequest, DeletionCertificate, DsarStatus
from compliance.tests.conftest import confirm_as_holder, make_user, message_parts

pytestmark = pytest.mark.django_db

EMAIL = "jane.fullerton@example.com"
FIRST, LAST = "Janette", "Fullerton"
SIGNATURE = "Janette Q. Fullerton"
IP = "203.0.113.77"
USER_AGENT = "FullErasureBrowser/9.9"


def tiny_jpeg(colour: tuple[int, int, int]) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 80), colour).save(buffer, "JPEG")
    return buffer.getvalue()


def finish_job(job: Any) -> Any:
    """Stand in for the worker: claim, destroy the original, store two small encrypted results."""
    from gpu_worker.schemas import Backend, GenerationResult, OutputFormat, PortraitImage
    from portraits import services

    services.claim_job(str(job.id))
    services.destroy_original(job)
    images = tuple(
        PortraitImage(
            variant=index,
            full=tiny_jpeg((100 + index * 30, 120, 140)),
            full_format=OutputFormat.JPEG,
            width=64,
            height=80,
            preview=tiny_jpeg((10, 20, 30)),
            preview_width=32,
            preview_height=40,
        )
        for index in range(2)
    )
    assert services.complete_job(
        str(job.id), GenerationResult(job_id=str(job.id), backend=Backend.STUDIO, portraits=images)
    )
    job.refresh_from_db()
    return job


def act() -> Any:
    from compliance.models import ConsentKind
    from compliance.services import ConsentAct, current_document

    return ConsentAct(
        checked=True,
        signature_name=SIGNATURE,
        document_version=current_document(ConsentKind.BIOMETRIC).version,
        ip=IP,
        user_agent=USER_AGENT,
    )


def rows_containing(needles: list[str]) -> dict[str, list[str]]:
    """For every model, the needles found in any of its rows (all fields, as text)."""
    found: dict[str, list[str]] = {}
    for model in apps.get_models():
        for row in model._default_manager.all().values():
            text = " ".join(repr(value) for value in row.values()).lower()
            hits = [n for n in needles if n.lower() in text]
            if hits:
                found.setdefault(model._meta.label, []).extend(hits)
    return found


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.fixture
def person(team: Any) -> dict[str, Any]:
    """Jane: an account, a team membership with its consent and job, a personal job, and an
    anonymous job made before she had an account (she keeps its token)."""
    from accounts.models import Membership, Role
    from accounts.teams import give_member_consent, start_member_job
    from compliance.models import ConsentSubjectType
    from compliance.services import record_biometric_consent
    from portraits.services import ClientInfo, create_job
    from tests.photos import face_jpeg

    user = make_user(EMAIL, first_name=FIRST, last_name=LAST)
    membership = Membership.objects.create(user=user, organisation=team.organisation, role=Role.MEMBER)
    client = ClientInfo(ip=IP, user_agent=USER_AGENT)
    photo = face_jpeg()
    with TestCase.captureOnCommitCallbacks(execute=False):  # no generation task; finish_job stands in
        record_biometric_consent(
            act(), subject_type=ConsentSubjectType.USER, subject_id=str(user.pk), user=user
        )
        give_member_consent(membership, act())
        submission = start_member_job(membership, photo=photo, client=client)
        personal = create_job(
            photo=photo, consent=act(), client=client, style_slug="corporate-grey", owner=user
        )
        anonymous = create_job(photo=photo, consent=act(), client=client, style_slug="corporate-grey")
    jobs = [finish_job(submission.job), finish_job(personal.job), finish_job(anonymous.job)]
    return {
        "user": user,
        "membership": membership,
        "jobs": jobs,
        "token": anonymous.token,
        "colleague": team.member,
    }


def test_an_erasure_request_leaves_nothing_but_the_minimal_audit_record(
    person: dict[str, Any], api_client: Any, eager_celery: None, storage_dir: Path
) -> None:
    from portraits.models import DataKey, Portrait, PortraitJob

    user, jobs = person["user"], person["jobs"]
    personal_values = [EMAIL, FIRST, LAST, SIGNATURE, "203.0.113.0/24", USER_AGENT, person["token"]]
    # The fixture really holds data about Jane in several apps and in storage.
    before = rows_containing(personal_values)
    assert {"accounts.User", "compliance.ConsentRecord"} <= set(before)
    assert Portrait.objects.filter(job__in=jobs).count() == 6
    assert len(files_under(storage_dir)) == 12
    from accounts.models import Membership
    from accounts.teams import give_member_consent
    from compliance.services import ConsentAct

    colleague_act = ConsentAct(
        checked=True, signature_name="Mia Member", document_version=None, ip="192.0.2.1"
    )
    give_member_consent(Membership.objects.get(user=person["colleague"]), colleague_act)
    consents = apps.get_model("compliance", "ConsentRecord").objects
    colleague_consents = consents.exclude(user=user).exclude(job_id__in=[job.id for job in jobs]).count()
    assert colleague_consents == 1

    # 1. Jane asks for erasure through the public API and proves her email and her anonymous job.
    response = api_client.post(
        "/api/v1/dsar/",
        {
            "email": EMAIL,
            "request_type": "erasure",
            "details": f"I am {FIRST}",
            "job_reference": person["token"],
        },
        format="json",
    )
    request_id = response.json()["id"]
    match = re.search(r"\b(\d{6})\b", str(mail.outbox[-1].body))
    assert match is not None
    code = match.group(1)
    assert (
        api_client.post(f"/api/v1/dsar/{request_id}/verify/", {"code": code}, format="json").status_code
        == 200
    )
    # Her address has an account: she confirms by signing in.
    confirm_as_holder(user, request_id)

    # 2. Fulfilment ran by itself and sent the certificate.
    request = DataSubjectRequest.objects.get(pk=request_id)
    assert request.status == DsarStatus.COMPLETED
    assert request.certificate_id is not None
    certificate = DeletionCertificate.objects.get(pk=request.certificate_id)
    assert certificate.is_complete, certificate.failures
    assert certificate.scope["erased"]["portraits"]["portrait_jobs"] == 3
    assert certificate.scope["erased"]["portraits"]["portraits"] == 6
    assert certificate.scope["erased"]["compliance"]["consent_records"] >= 5
    assert certificate.scope["erased"]["accounts"]["memberships"] == 1
    text, html = message_parts(mail.outbox[-1] if mail.outbox[-1].to == [EMAIL] else mail.outbox[-2])
    assert "certificate" in text.lower() and "certificate" in html.lower()

    # 3. No table holds any of her personal data any more.
    assert rows_containing(personal_values) == {}

    # 4. Her ids survive only where the minimal record needs them, and those rows say nothing about her.
    ids = [str(job.id) for job in jobs] + [f"user:{user.pk}"]
    where = rows_containing(ids)
    assert set(where) <= {"compliance.AuditEvent", "portraits.PortraitJob"}, where
    for job in PortraitJob.objects.filter(id__in=[job.id for job in jobs]):
        assert job.status == "deleted" and job.owner_id is None and not job.portraits.exists()
    assert not DataKey.objects.filter(wrapped_key__isnull=False).exists()  # every key crypto-shredded
    assert not apps.get_model("accounts", "Membership").objects.filter(user_id=user.pk).exists()
    assert (
        not apps.get_model("accounts", "TeamSubmission").objects.filter(membership__user_id=user.pk).exists()
    )
    assert not apps.get_model("compliance", "ConsentRecord").objects.filter(user_id=user.pk).exists()

    # 5. Storage holds nothing of hers: objects deleted, keys wiped. What is left is the signed
    # audit checkpoint the certificate carries: a sequence number and hashes, nothing personal.
    left = files_under(storage_dir)
    assert all(path.parent == storage_dir / "audit" / "checkpoints" for path in left), left
    for path in left:
        assert not any(value in path.read_text() for value in personal_values)

    # 6. The audit log still verifies, holds the erasure, and never held her personal data.
    from compliance.audit import verify_chain

    assert verify_chain().ok
    assert AuditEvent.objects.filter(action="erasure.completed", object_id=str(certificate.id)).exists()

    # 7. Nobody else lost anything.
    assert (
        apps.get_model("accounts", "User")
        .objects.filter(pk=person["colleague"].pk, email__contains="@")
        .exists()
    )
    assert apps.get_model("compliance", "ConsentRecord").objects.count() == colleague_consents

    # 8. Nothing in the cache folder mentions her either.
    cache_dir = Path(settings.CACHES["default"].get("LOCATION", "/nonexistent"))
    for path in files_under(cache_dir):
        assert EMAIL.encode() not in path.read_bytes()


def test_an_access_request_returns_her_portraits_and_records_from_every_app(
    person: dict[str, Any], api_client: Any, client: Any, eager_celery: None
) -> None:
    import json
    import zipfile

    response = api_client.post(
        "/api/v1/dsar/",
        {"email": EMAIL, "request_type": "access", "details": "", "job_reference": person["token"]},
        format="json",
    )
    match = re.search(r"\b(\d{6})\b", str(mail.outbox[-1].body))
    assert match is not None
    code = match.group(1)
    api_client.post(f"/api/v1/dsar/{response.json()['id']}/verify/", {"code": code}, format="json")
    confirm_as_holder(person["user"], response.json()["id"])
    found = re.search(r"http://\S+/privacy/exports/\S+/", str(mail.outbox[-1].body))
    assert found is not None
    link = found.group(0)

    archive = zipfile.ZipFile(io.BytesIO(client.get(link.removeprefix(settings.SITE_URL)).content))

    data = json.loads(archive.read("data.json"))
    assert {"accounts", "portraits", "compliance"} <= set(data["parts"])
    portrait_files = [name for name in archive.namelist() if name.startswith("files/portraits/")]
    assert len(portrait_files) == 6  # three jobs, two portraits each, as images
    assert all(archive.read(name).startswith(b"\xff\xd8") for name in portrait_files)
    assert len(data["parts"]["compliance"]["consent_history"]["records"]) >= 5
    assert EMAIL in json.dumps(data["parts"]["accounts"])
