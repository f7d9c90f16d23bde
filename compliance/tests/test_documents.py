"""Every compliance PDF, rendered and read back as text: certificate, DPA, RoPA, Art. 15 cover sheet.

Run with PROPORTRAIT_WRITE_DOC_SAMPLES=1 to refresh the page images in docs/compliance/.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from compliance import pdf, services
from compliance.models import DpaAcceptance, ProcessingActivity
from compliance.services import ErasureReport, Subject
from compliance.services.erasure import _ERASERS, register_eraser
from compliance.services.registers import ROPA_FIELDS
from compliance.tests.conftest import otp_client, pdf_text

pytestmark = pytest.mark.django_db
DOCS = Path(settings.BASE_DIR) / "docs" / "compliance"


def save_sample(name: str, content: bytes) -> None:
    """Write page 1 as PNG under docs/compliance/ so a reader can see the document."""
    if not os.environ.get("PROPORTRAIT_WRITE_DOC_SAMPLES"):
        return
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "install poppler-utils"
    DOCS.mkdir(parents=True, exist_ok=True)
    source = DOCS / f"{name}.pdf"
    source.write_bytes(content)
    subprocess.run(
        [pdftoppm, "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(source), str(DOCS / name)],
        check=True,
    )
    source.unlink()


@pytest.fixture
def certificate() -> Any:
    saved = dict(_ERASERS)
    register_eraser(
        "portraits-demo",
        lambda s: ErasureReport(
            "portraits",
            {"portrait_jobs": 1, "portraits": 4, "storage_objects": 8},
            systems=("object storage",),
        ),
    )
    yield services.erase_subject(
        Subject(user_id=7, email="x@example.com"),
        reason="dsar_erasure",
        actor="dsar:demo",
        reference="DSAR-1A2B3C4D",
    )
    _ERASERS.clear()
    _ERASERS.update(saved)


def test_the_deletion_certificate_says_what_how_when_and_what_remains(certificate: Any) -> None:
    content = pdf.render_certificate(certificate)
    text = pdf_text(content)
    for expected in [
        "Deletion certificate",
        "DSAR-1A2B3C4D",
        "Erasure request (data rights)",
        "Completion time",
        certificate.completed_at.strftime("%-d %B %Y"),
        "Portraits",
        "Storage objects",
        "8",
        "crypto-shredding",
        "Sub-processors",
        "Erasure notice",
        "Hetzner Online GmbH",
        "What remains and why",
        "minimal audit record",
        "Backups",
        certificate.audit_hashes[0][:30],
    ]:
        assert expected in text, expected
    assert "x@example.com" not in text
    # Words and dates people read, not internal names and ISO timestamps.
    assert "dsar_erasure" not in text and "storage_objects" not in text
    # The checkpoint's signed text is quoted verbatim (it is what the signature covers, so anyone
    # can verify it); everywhere else a time is written for people.
    # The evidence section ends the certificate and its last row is that signed text.
    readable = text.split("Signed text")[0]
    assert "Backups" in readable and "What remains and why" in readable
    assert certificate.completed_at.isoformat()[:19] not in readable
    save_sample("deletion-certificate", content)


def test_the_dpa_holds_every_art_28_element_and_the_organisations_own_policy(team: Any) -> None:
    team.organisation.approved_retention_months = 7
    team.organisation.save()
    services.accept_dpa(organisation=team.organisation, user=team.admin, ip="192.0.2.10")

    content = pdf.render_dpa(services.dpa_context(team.organisation))
    text = pdf_text(content)

    for expected in [
        "Acme Widgets",
        "ProPortrait AI Ltd",
        "Subject matter",
        "Duration",
        "Nature",
        "Purpose",
        "Types of personal data",
        "Categories of data subjects",
        "(a) Documented instructions",
        "(b) Confidentiality",
        "(c) Security",
        "(d) Sub-processors",
        "(e) Assistance with data subject rights",
        "(f) Assistance with Arts. 32-36",
        "(g) Deletion or return",
        "(h) Audit",
        "Annex I",
        "Annex II",
        "Annex III",
        "Amazon Web Services EMEA SARL",
        "Standard Contractual",
        "Retention schedule (live)",
        "7 months",
        "Accepted by",
        "Adam Admin",
        "admin of Acme Widgets",
    ]:
        assert expected in text, expected
    save_sample("dpa", content)


def test_the_dpa_says_when_it_is_not_yet_accepted(team: Any) -> None:
    assert "Not yet accepted" in pdf_text(pdf.render_dpa(services.dpa_context(team.organisation)))


@pytest.mark.parametrize("who", ["owner", "admin", "staff"])
def test_owners_admins_and_staff_download_the_dpa(team: Any, staff: Any, who: str) -> None:
    user = staff if who == "staff" else getattr(team, who)
    response = otp_client(user).get(reverse("compliance:dpa_pdf", args=[team.organisation.slug]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "Acme Widgets" in pdf_text(response.content)


@pytest.mark.parametrize(("who", "status"), [("member", 403), ("outsider", 404)])
def test_members_and_outsiders_cannot_download_the_dpa(team: Any, who: str, status: int) -> None:
    response = otp_client(getattr(team, who)).get(
        reverse("compliance:dpa_pdf", args=[team.organisation.slug])
    )
    assert response.status_code == status


def test_the_dpa_needs_a_login_and_a_real_organisation(team: Any, client: Any) -> None:
    assert client.get(reverse("compliance:dpa_pdf", args=["acme"])).status_code == 302
    response = otp_client(team.owner).get(reverse("compliance:dpa_pdf", args=["nobody"]))
    assert response.status_code == 404


def test_an_admin_accepts_the_dpa_and_the_record_says_who_when_and_which_version(team: Any) -> None:
    response = otp_client(team.owner).post(reverse("compliance:dpa_accept", args=["acme"]), {"next": "/x/"})
    assert response.status_code == 302 and response["Location"] == "/x/"
    acceptance = DpaAcceptance.objects.get()
    document = services.current_document("dpa")
    assert acceptance.accepted_by == team.owner and acceptance.accepted_by_role == "owner"
    assert (acceptance.document_version, acceptance.document_sha256) == (document.version, document.sha256)
    assert acceptance.accepted_at.tzinfo is not None


def test_a_member_cannot_accept_the_dpa(team: Any) -> None:
    response = otp_client(team.member).post(reverse("compliance:dpa_accept", args=["acme"]))
    assert response.status_code == 403 and not DpaAcceptance.objects.exists()


def test_the_records_of_processing_export_as_pdf_and_csv(staff_client: Any) -> None:
    ProcessingActivity.objects.create(
        name="Zeta test activity",
        role="controller",
        purpose="Testing the export",
        legal_basis="Art. 6(1)(f)",
        data_subjects="Testers",
        data_categories="None",
        recipients="None",
        transfers="None",
        retention="1 day",
        security_measures="Encryption",
    )
    response = staff_client.get(reverse("compliance:ropa_csv"))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [label for _, label in ROPA_FIELDS]
    assert rows[-1][:3] == ["Zeta test activity", "controller", "Testing the export"]
    assert len(rows) == ProcessingActivity.objects.count() + 1

    content = staff_client.get(reverse("compliance:ropa_pdf")).content
    text = pdf_text(content)
    for expected in [
        "Records of processing activities",
        "Art. 30",
        "Portrait generation",
        "Organisation headshot",
        "Legal basis",
        "Retention",
        "Security measures",
        "Zeta test activity",
    ]:
        assert expected in text, expected
    save_sample("records-of-processing", content)


def test_staff_documents_need_staff_with_a_second_factor(team: Any, staff: Any, client: Any) -> None:
    assert otp_client(team.owner).get(reverse("compliance:ropa_pdf")).status_code == 403
    client.force_login(staff)  # no second factor
    assert client.get(reverse("compliance:ropa_csv")).status_code == 403


def test_the_admin_exports_the_records_of_processing(staff_client: Any) -> None:
    url = reverse("admin:compliance_processingactivity_changelist")
    first = ProcessingActivity.objects.first()
    assert first is not None
    response = staff_client.post(url, {"action": "export_pdf", "_selected_action": [first.pk]})
    assert response["Content-Type"] == "application/pdf"
    response = staff_client.post(url, {"action": "export_csv", "_selected_action": [first.pk]})
    assert response["Content-Type"].startswith("text/csv")


def test_the_art_15_cover_sheet_answers_each_question() -> None:
    from django.utils import timezone

    from compliance.services.exports import art15_context

    content = pdf.render_cover_sheet(
        {**art15_context(Subject(user_id=1)), "reference": "DSAR-0000ABCD", "generated_at": timezone.now()}
    )
    text = pdf_text(content)
    for expected in [
        "Purposes",
        "Categories of personal data",
        "Recipients",
        "How long we keep it",
        "Your rights",
        "Complaints",
        "supervisory authority",
        "Source of the data",
        "DSAR-0000ABCD",
    ]:
        assert expected in text, expected
    save_sample("access-cover-sheet", content)


def test_staff_download_a_certificate_from_the_admin(staff_client: Any, certificate: Any) -> None:
    response = staff_client.get(reverse("compliance:staff_certificate_pdf", args=[certificate.pk]))
    assert response.status_code == 200 and "DSAR-1A2B3C4D" in pdf_text(response.content)


def test_pdfs_load_nothing_from_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket
    import urllib.request

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a PDF tried to reach the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(urllib.request.OpenerDirector, "open", refuse)
    fetcher = pdf.no_network_fetcher()
    with pytest.raises(Exception, match="protocol"):
        fetcher.fetch("https://tracker.example/p.gif")

    from weasyprint import HTML

    HTML(string='<p>x</p><img src="https://tracker.example/p.gif">', url_fetcher=fetcher).write_pdf()
