"""Fulfilment after verification (GDPR Arts. 15, 17, 19, 20; CCPA 7022): automatic, emailed, evidenced."""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

import pytest
import time_machine
from django.core import mail

from compliance import services
from compliance.models import (
    AuditEvent,
    ConsentRecord,
    DataExport,
    DataSubjectRequest,
    DeletionCertificate,
    DsarStatus,
    SubProcessor,
    SubprocessorErasureNotice,
)
from compliance.services import ErasureReport, ExportPart, Subject
from compliance.services.erasure import _ERASERS, register_eraser
from compliance.services.exports import _EXPORTERS, register_exporter
from compliance.tests.conftest import confirm_as_holder, give_consent, make_user, message_parts, pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry() -> Any:
    """Stand-in app registrations: an eraser and an exporter that report what they were given."""
    erasers, exporters = dict(_ERASERS), dict(_EXPORTERS)
    seen: dict[str, list[Subject]] = {"erased": [], "exported": []}

    def eraser(subject: Subject) -> ErasureReport:
        seen["erased"].append(subject)
        return ErasureReport("gallery", {"portraits": 2}, systems=("object storage", "data keys"))

    def exporter(subject: Subject) -> ExportPart:
        seen["exported"].append(subject)
        return ExportPart(
            {"portraits": [{"id": "p1"}]}, {"portrait-1.jpg": b"\xff\xd8jpeg-bytes", "../../evil": b"x"}
        )

    register_eraser("gallery", eraser, order=50)
    register_exporter("gallery", exporter)
    yield seen
    _ERASERS.clear()
    _ERASERS.update(erasers)
    _EXPORTERS.clear()
    _EXPORTERS.update(exporters)


def submit_and_verify(api_client: Any, **fields: Any) -> DataSubjectRequest:
    payload = {"email": "jane@example.com", "request_type": "access", "details": "", **fields}
    request_id = api_client.post("/api/v1/dsar/", payload, format="json").json()["id"]
    match = re.search(r"\b(\d{6})\b", str(mail.outbox[-1].body))
    assert match is not None
    code = match.group(1)
    response = api_client.post(f"/api/v1/dsar/{request_id}/verify/", {"code": code}, format="json")
    assert response.status_code == 200, response.content
    request = DataSubjectRequest.objects.get(pk=request_id)
    if request.hold == "account_sign_in":
        # The address has an account: its holder confirms by signing in (tested on its own elsewhere).
        from accounts.models import User

        confirm_as_holder(User.objects.get(pk=request.matched_subject["user_id"]), request_id)
        request.refresh_from_db()
    return request


def link_in(message: Any) -> str:
    match = re.search(r"http://\S+/privacy/\S+/", message.body)
    assert match is not None
    return match.group(0).removeprefix("http://127.0.0.1:8000")


def test_an_access_request_runs_by_itself_and_emails_a_short_lived_link(
    api_client: Any, client: Any, eager_celery: None, registry: Any
) -> None:
    user = make_user("jane@example.com")
    give_consent(user=user)

    request = submit_and_verify(api_client)

    assert request.status == DsarStatus.COMPLETED and request.closed_at
    assert request.email == ""  # the link went out; the address is not kept
    assert registry["exported"][0].user_id == user.pk
    subjects = [m.subject for m in mail.outbox]
    assert any("working on" in s for s in subjects) and "completed" in subjects[-1]
    text, html = message_parts(mail.outbox[-1])
    url = link_in(mail.outbox[-1])
    assert url in text and url in html and "Download your data" in html

    response = client.get(url)

    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    assert {
        "data.json",
        "schema.json",
        "cover-sheet.pdf",
        "README.txt",
        "files/gallery/portrait-1.jpg",
    } <= names
    assert "files/gallery/evil" in names and not any(".." in n for n in names)
    data = json.loads(archive.read("data.json"))
    assert data["schema"] == "proportrait.subject-export/1" and data["reference"] == request.reference
    assert data["parts"]["gallery"] == {"portraits": [{"id": "p1"}]}
    consent = data["parts"]["compliance"]["consent_history"]["records"][0]
    assert consent["signature_name"] == "Jane Q. Example" and consent["document"]["sha256"]
    assert data["parts"]["compliance"]["data_rights_requests"][0]["reference"] == request.reference
    assert archive.read("files/gallery/portrait-1.jpg") == b"\xff\xd8jpeg-bytes"
    cover = pdf_text(archive.read("cover-sheet.pdf"))
    for heading in [
        "Purposes",
        "Categories of personal data",
        "Recipients",
        "How long we keep it",
        "Your rights",
        "Complaints",
        "Source of the data",
    ]:
        assert heading in cover
    assert "Hetzner" in cover


def test_the_export_is_encrypted_in_storage_and_the_key_is_not_stored(
    api_client: Any, eager_celery: None, registry: Any, storage_dir: Any
) -> None:
    submit_and_verify(api_client, request_type="portability")
    export = DataExport.objects.get()
    stored = (storage_dir / export.storage_key).read_bytes()
    assert not stored.startswith(b"PK") and b"data.json" not in stored
    key = link_in(mail.outbox[-1]).rstrip("/").rsplit("/", 1)[1]
    assert key not in json.dumps(list(DataExport.objects.values()), default=str)


def test_the_download_link_expires(api_client: Any, client: Any, eager_celery: None, registry: Any) -> None:
    with time_machine.travel("2026-05-01 09:00Z", tick=False):
        submit_and_verify(api_client)
        url = link_in(mail.outbox[-1])
    with time_machine.travel("2026-05-04 09:01Z", tick=False):
        response = client.get(url)
    assert response.status_code == 410 and "expired" in response.content.decode()


def test_a_wrong_key_or_unknown_export_is_not_found(
    api_client: Any, client: Any, eager_celery: None, registry: Any
) -> None:
    submit_and_verify(api_client)
    url = link_in(mail.outbox[-1])
    prefix, key = url.rstrip("/").rsplit("/", 1)
    assert client.get(f"{prefix}/{'A' * len(key)}/").status_code == 404
    assert client.get(f"{prefix}/not-base64!/").status_code == 404
    assert client.get("/privacy/exports/00000000-0000-0000-0000-000000000000/abc/").status_code == 404


def test_an_erasure_request_runs_every_eraser_notifies_sub_processors_and_certifies(
    api_client: Any, client: Any, eager_celery: None, registry: Any, settings: Any
) -> None:
    SubProcessor.objects.filter(name__startswith="Postmark").update(
        privacy_contact_email="dpo@postmark.example"
    )
    user = make_user("jane@example.com", first_name="Jane")
    give_consent(user=user)

    request = submit_and_verify(api_client, request_type="erasure", details="Please delete me")

    request.refresh_from_db()
    assert request.status == DsarStatus.COMPLETED
    assert request.certificate_id is not None
    erased = registry["erased"][0]
    assert erased.user_id == user.pk and erased.email == "jane@example.com" and erased.scope == "everything"
    certificate = DeletionCertificate.objects.get(pk=request.certificate_id)
    assert certificate.reference == request.reference and certificate.is_complete
    assert certificate.scope["erased"]["gallery"] == {"portraits": 2}
    assert certificate.scope["erased"]["compliance"]["consent_records"] == 1
    assert not ConsentRecord.objects.filter(user_id=user.pk).exists()
    names = set(SubProcessor.objects.filter(until__isnull=True).values_list("name", flat=True))
    assert set(certificate.notices.values_list("subprocessor_name", flat=True)) == names
    assert SubprocessorErasureNotice.objects.filter(method="email to privacy contact").count() == 1
    assert any(m.to == ["dpo@postmark.example"] and request.reference in m.subject for m in mail.outbox)
    # The requester is told, then forgotten: no email or free text stays on the request.
    completed = mail.outbox[-1] if mail.outbox[-1].to == ["jane@example.com"] else mail.outbox[-2]
    text, html = message_parts(completed)
    assert "deletion certificate" in text.lower() and "certificate" in html.lower()
    assert (request.email, request.details) == ("", "")
    response = client.get(link_in(completed))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert request.reference in pdf_text(response.content)


def test_a_certificate_link_with_a_bad_signature_is_not_found(client: Any) -> None:
    assert client.get("/privacy/certificates/forged-token/").status_code == 404


def test_an_eraser_that_fails_leaves_the_request_open_and_the_certificate_incomplete(
    api_client: Any, eager_celery: None, registry: Any
) -> None:
    def broken(subject: Subject) -> ErasureReport:
        raise RuntimeError("storage down")

    register_eraser("broken", broken)
    request = submit_and_verify(api_client, request_type="erasure")
    request.refresh_from_db()
    assert request.status == DsarStatus.IN_PROGRESS
    assert request.certificate_id is not None
    certificate = DeletionCertificate.objects.get(pk=request.certificate_id)
    assert certificate.failures == ["broken"] and not certificate.is_complete
    assert "Incomplete" in pdf_text(
        __import__("compliance.pdf", fromlist=["x"]).render_certificate(certificate)
    )


def test_a_job_token_proves_an_anonymous_holder_and_a_bare_guess_proves_nothing(
    api_client: Any, eager_celery: None, registry: Any
) -> None:
    import uuid

    from compliance.services import dsar

    job_id = str(uuid.uuid4())
    dsar.register_job_resolver(lambda token: job_id if token == "secret-token" else None)
    try:
        submit_and_verify(api_client, request_type="erasure", job_reference=job_id)  # an id is no proof
        assert registry["erased"][-1].job_ids == ()
        with time_machine.travel("2030-01-01 00:00Z", tick=False):
            request = submit_and_verify(
                api_client, request_type="erasure", job_reference="secret-token", email="anon@example.com"
            )
        assert registry["erased"][-1].job_ids == (job_id,)
        assert AuditEvent.objects.filter(action="dsar.verified", object_id=str(request.pk)).get().data[
            "matched"
        ] == {
            "user_id": None,
            "job_ids": [job_id],
        }
        request.refresh_from_db()
        assert request.matched_subject == {}  # forgotten once the erasure is done
    finally:
        dsar._JOB_RESOLVERS.clear()


def test_without_a_registered_resolver_the_token_hash_of_a_portrait_job_is_checked() -> None:
    from compliance.services.dsar import resolve_job_reference

    assert resolve_job_reference("no-such-token") is None
    assert resolve_job_reference("   ") is None


def test_erase_subject_is_usable_directly_by_other_apps(registry: Any) -> None:
    certificate = services.erase_subject(Subject(user_id=42), reason="account_deletion", actor="user:42")
    assert certificate.reason == "account_deletion" and certificate.audit_hashes
    assert certificate.reference.startswith("erasure:")
