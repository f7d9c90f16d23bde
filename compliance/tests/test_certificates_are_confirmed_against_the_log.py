"""A deletion certificate carries its event hash and a signed checkpoint, and anyone can confirm it
against the audit log: `manage.py verify_certificate` and the public page."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.management import CommandError, call_command
from django.urls import reverse

from compliance import checkpoints, pdf, services
from compliance.audit import record_event
from compliance.models import AuditEvent, DeletionCertificate
from compliance.services import ErasureReport, Subject
from compliance.services.erasure import _ERASERS, register_eraser
from compliance.tests import tamper
from compliance.tests.conftest import pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def certificate(committed: Any) -> Any:
    saved = dict(_ERASERS)
    register_eraser(
        "portraits-demo", lambda s: ErasureReport("portraits", {"portraits": 4}, systems=("object storage",))
    )
    try:
        with committed():
            made = services.erase_subject(
                Subject(job_ids=("job-1",)),
                reason="dsar_erasure",
                actor="dsar:demo",
                reference="DSAR-1A2B3C4D",
            )
    finally:
        _ERASERS.clear()
        _ERASERS.update(saved)
    return DeletionCertificate.objects.select_related("checkpoint").get(pk=made.pk)


def test_the_certificate_carries_its_event_and_a_signed_checkpoint(certificate: Any) -> None:
    event = AuditEvent.objects.get(hash=certificate.event_hash)
    assert event.action == "erasure.completed" and event.object_id == str(certificate.pk)
    assert certificate.event_sequence == event.sequence
    assert certificate.audit_hashes[-1] == event.hash
    checkpoint = certificate.checkpoint
    assert checkpoint.sequence >= event.sequence and checkpoint.published_at is not None
    Ed25519PublicKey.from_public_bytes(base64.b64decode(checkpoints.public_keys()[checkpoint.key_id])).verify(
        base64.b64decode(checkpoint.signature), checkpoint.payload.encode()
    )
    # What the PDF states is what the database and the signed checkpoint hold.
    content = pdf.render_certificate(certificate)
    text = pdf_text(content).replace(" ", "")
    assert certificate.event_hash in text
    assert checkpoint.signature in text
    assert checkpoint.head_hash in text
    assert "/privacy/verify-certificate/" in text
    save_last_page("deletion-certificate-evidence", content)


def save_last_page(name: str, content: bytes) -> None:
    """With PROPORTRAIT_WRITE_DOC_SAMPLES=1, the certificate's last page (the evidence) as a PNG."""
    import io
    import os
    import subprocess

    from pypdf import PdfReader

    from compliance.tests.test_documents import DOCS

    if not os.environ.get("PROPORTRAIT_WRITE_DOC_SAMPLES"):
        return
    last = len(PdfReader(io.BytesIO(content)).pages)
    source = DOCS / f"{name}.pdf"
    source.write_bytes(content)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "60",
            "-f",
            str(last),
            "-l",
            str(last),
            "-singlefile",
            str(source),
            str(DOCS / name),
        ],
        check=True,
    )
    source.unlink()


def test_the_command_confirms_a_genuine_certificate(certificate: Any, capsys: Any) -> None:
    call_command("verify_certificate", str(certificate.pk), certificate.event_hash)
    out = capsys.readouterr().out
    assert f"Certificate {certificate.pk} confirmed" in out
    assert f"event #{certificate.event_sequence}" in out


def test_the_command_refuses_a_wrong_hash_or_an_unknown_certificate(certificate: Any) -> None:
    with pytest.raises(CommandError, match="not the one this certificate carries"):
        call_command("verify_certificate", str(certificate.pk), "a" * 64)
    with pytest.raises(CommandError, match="no certificate"):
        call_command("verify_certificate", "00000000-0000-0000-0000-000000000000", certificate.event_hash)


def test_the_command_refuses_once_the_log_is_rewritten(certificate: Any) -> None:
    record_event("job.viewed", object_id="later")
    tamper.set_event_data(certificate.event_sequence, {"reference": "DSAR-1A2B3C4D", "failures": ["x"]})
    with pytest.raises(CommandError, match=f"audit event #{certificate.event_sequence}"):
        call_command("verify_certificate", str(certificate.pk), certificate.event_hash)


def test_the_command_refuses_when_the_published_checkpoint_was_replaced(
    certificate: Any, storage_dir: Any
) -> None:
    (storage_dir / certificate.checkpoint.storage_key).unlink()
    with pytest.raises(CommandError, match="published copy of the checkpoint is missing"):
        call_command("verify_certificate", str(certificate.pk), certificate.event_hash)


def test_the_public_page_confirms_a_genuine_certificate(client: Any, certificate: Any) -> None:
    url = reverse("compliance:verify_certificate")
    assert client.get(url).status_code == 200

    response = client.post(url, {"certificate_id": str(certificate.pk), "event_hash": certificate.event_hash})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Confirmed." in page
    assert f"#{certificate.checkpoint.sequence}" in page
    assert "DSAR-1A2B3C4D" not in page  # confirms; does not disclose what was erased


def test_the_public_page_says_not_confirmed_without_telling_which_part_is_wrong(
    client: Any, certificate: Any
) -> None:
    url = reverse("compliance:verify_certificate")
    wrong_hash = client.post(url, {"certificate_id": str(certificate.pk), "event_hash": "b" * 64})
    unknown = client.post(
        url, {"certificate_id": "00000000-0000-0000-0000-000000000000", "event_hash": certificate.event_hash}
    )
    for response in (wrong_hash, unknown):
        assert response.status_code == 404
        assert "Not confirmed." in response.content.decode()


def test_the_public_page_rejects_malformed_input(client: Any) -> None:
    response = client.post(
        reverse("compliance:verify_certificate"), {"certificate_id": "nope", "event_hash": "xyz"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter a valid UUID" in page and "64 characters" in page


def test_the_public_page_limits_guessing(client: Any, certificate: Any) -> None:
    from compliance.views import VERIFY_ATTEMPTS_PER_HOUR

    url = reverse("compliance:verify_certificate")
    data = {"certificate_id": str(certificate.pk), "event_hash": "c" * 64}
    for _ in range(VERIFY_ATTEMPTS_PER_HOUR):
        assert client.post(url, data).status_code == 404
    response = client.post(url, data)
    assert response.status_code == 429
    assert "Too many checks" in response.content.decode()
