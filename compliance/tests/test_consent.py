"""Consent documents and records (GDPR Arts. 7, 9(2)(a); BIPA 15(b)): provable, immutable, withdrawable."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.urls import reverse

from compliance import services
from compliance.models import AuditEvent, ConsentAction, ConsentDocument, ConsentKind, ConsentRecord
from compliance.services import ErasureReport, ErasureScope, Subject
from compliance.services.erasure import _ERASERS, register_eraser, unregister_eraser
from compliance.tests.conftest import consent_act, give_consent, make_user, otp_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def erased_subjects() -> Any:
    """A stand-in eraser that records what the cascade asked it to erase."""
    seen: list[Subject] = []

    def eraser(subject: Subject) -> ErasureReport:
        seen.append(subject)
        return ErasureReport("spy", {"portraits": 4}, systems=("object storage",))

    saved = dict(_ERASERS)
    register_eraser("spy", eraser)
    yield seen
    unregister_eraser("spy")
    _ERASERS.clear()
    _ERASERS.update(saved)


def test_the_biometric_notice_states_purpose_term_sharing_and_rights() -> None:
    notice = services.current_document(ConsentKind.BIOMETRIC)
    text = notice.text.lower()
    for promise in [
        "only to create professional portraits",
        "15 minutes",
        "24 hours",
        "do not sell",
        "sub-processors",
        "withdraw",
        "erasure",
        "typing your full name",
    ]:
        assert promise in text, promise
    assert notice.sha256 == ConsentDocument.hash_text(notice.text)


def test_every_kind_of_document_is_published_with_its_hash(client: Any) -> None:
    response = client.get("/api/v1/consent/current/")
    assert response.status_code == 200
    kinds = {item["kind"]: item for item in response.json()}
    assert set(kinds) == {"biometric", "terms", "dpa"}
    for item in kinds.values():
        assert item["sha256"] == ConsentDocument.hash_text(item["text"])
        assert item["version"] >= 1 and item["title"]


def test_a_published_document_cannot_be_edited_or_deleted() -> None:
    notice = services.current_document(ConsentKind.BIOMETRIC)
    notice.text = "Something else"
    with pytest.raises(ValueError, match="immutable"):
        notice.save()
    with pytest.raises(ValueError):
        notice.delete()


def test_a_new_version_leaves_the_old_one_and_its_records_untouched(settings: Any) -> None:
    record = give_consent(job_id=uuid.uuid4())
    old = services.current_document(ConsentKind.BIOMETRIC)

    # The biometric notice is rendered from settings: a changed term is its next version.
    settings.PROPORTRAIT_ANONYMOUS_RETENTION_HOURS = 12
    new = services.current_document(ConsentKind.BIOMETRIC)
    with pytest.raises(ValueError, match="rendered from the live settings"):
        services.publish_document(
            ConsentKind.BIOMETRIC, title="v2", text=old.text + " More.", actor="staff:1"
        )

    assert new.version == old.version + 1
    assert services.current_document(ConsentKind.BIOMETRIC) == new
    old.refresh_from_db()
    assert old.sha256 == ConsentDocument.hash_text(old.text)
    record.refresh_from_db()
    assert (record.document_version, record.document_sha256) == (old.version, old.sha256)
    assert AuditEvent.objects.filter(action="consent.document_published").exists()


def test_staff_publish_a_new_version_through_the_admin(staff_client: Any) -> None:
    response = staff_client.post(
        reverse("admin:compliance_consentdocument_add"),
        {
            "kind": "terms",
            "title": "Terms v2",
            "text": "New terms.",
            "effective_at_0": "2026-12-01",
            "effective_at_1": "00:00:00",
            "jurisdiction_notes": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert services.current_document(ConsentKind.TERMS).text == "New terms."
    assert ConsentDocument.objects.filter(kind="terms").count() == 2


def test_a_consent_record_holds_who_when_what_and_how() -> None:
    job_id = uuid.uuid4()
    record = give_consent(job_id=job_id)
    notice = services.current_document(ConsentKind.BIOMETRIC)

    assert record.action == ConsentAction.GIVEN
    assert record.job_id == job_id and record.subject_type == "anonymous_job"
    assert (record.document_kind, record.document_version, record.document_sha256) == (
        "biometric",
        notice.version,
        notice.sha256,
    )
    assert record.method == "checkbox+typed-name" and record.signature_name == "Jane Q. Example"
    assert record.ip_truncated == "203.0.113.0/24"
    assert record.user_agent == "TestBrowser/1.0"
    assert record.purpose and "Art. 9(2)(a)" in record.jurisdiction_basis
    assert record.recorded_at.tzinfo is not None


def test_a_consent_record_cannot_be_edited() -> None:
    record = give_consent(job_id=uuid.uuid4())
    record.signature_name = "Someone Else"
    with pytest.raises(ValueError, match="immutable"):
        record.save()


@pytest.mark.parametrize(
    ("act", "message"),
    [
        ({"checked": False}, "tick the box"),
        ({"signature_name": " "}, "full name"),
        ({"document_version": 999}, "changed"),
    ],
)
def test_it_rejects_an_incomplete_consent_act(act: dict, message: str) -> None:
    fields = {"checked": True, "signature_name": "Jane Example", "document_version": None, **act}
    with pytest.raises(services.ConsentError, match=message):
        services.record_biometric_consent(services.ConsentAct(**fields), subject_id="x")
    assert not ConsentRecord.objects.exists()


def test_ipv6_addresses_keep_only_the_network() -> None:
    assert services.truncate_ip("2001:db8:abcd:12:1:2:3:4") == "2001:db8:abcd::/48"
    assert services.truncate_ip("not an ip") == ""


def test_withdrawing_is_a_new_record_and_erases_the_jobs_portraits(erased_subjects: list) -> None:
    job_id = uuid.uuid4()
    given = give_consent(job_id=job_id)

    withdrawals = services.withdraw_consent(job_id=job_id, actor=f"anonymous_job:{job_id}", ip="198.51.100.9")

    assert len(withdrawals) == 1
    withdrawal = withdrawals[0]
    assert withdrawal.action == ConsentAction.WITHDRAWN and withdrawal.withdraws_id == given.id
    assert withdrawal.ip_truncated == "198.51.100.0/24"
    given.refresh_from_db()
    assert given.action == ConsentAction.GIVEN  # the original fact is untouched
    assert erased_subjects == [Subject(job_ids=(str(job_id),), scope=ErasureScope.BIOMETRIC)]
    assert services.active_consents(job_id=job_id) == []
    assert AuditEvent.objects.filter(action="consent.withdrawn", object_id=str(withdrawal.id)).exists()


def test_withdrawing_twice_records_nothing_new(erased_subjects: list) -> None:
    job_id = uuid.uuid4()
    give_consent(job_id=job_id)
    services.withdraw_consent(job_id=job_id, actor="x")
    assert services.withdraw_consent(job_id=job_id, actor="x") == []
    assert ConsentRecord.objects.filter(action=ConsentAction.WITHDRAWN).count() == 1


def test_withdraw_needs_exactly_one_subject() -> None:
    with pytest.raises(ValueError):
        services.withdraw_consent(actor="x")
    with pytest.raises(ValueError):
        services.withdraw_consent(job_id=uuid.uuid4(), user=object(), actor="x")


def test_a_signed_in_person_withdraws_with_one_button(erased_subjects: list) -> None:
    user = make_user("jane@example.com")
    give_consent(user=user)
    client = otp_client(user)

    response = client.post(reverse("compliance:withdraw_consent"), {"next": "/accounts/"})

    assert response.status_code == 302 and response["Location"] == "/accounts/"
    assert ConsentRecord.objects.filter(user=user, action=ConsentAction.WITHDRAWN).count() == 1
    assert erased_subjects[0].user_id == user.pk and erased_subjects[0].scope == ErasureScope.BIOMETRIC


def test_withdrawal_refuses_get_and_strangers(client: Any) -> None:
    assert client.post(reverse("compliance:withdraw_consent")).status_code == 302  # to log-in
    user = make_user("jane@example.com")
    client.force_login(user)
    assert client.get(reverse("compliance:withdraw_consent")).status_code == 405


def test_withdrawal_never_redirects_off_site(erased_subjects: list) -> None:
    user = make_user("jane@example.com")
    client = otp_client(user)
    response = client.post(reverse("compliance:withdraw_consent"), {"next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_a_person_downloads_their_consent_history_as_json(erased_subjects: list) -> None:
    user = make_user("jane@example.com")
    give_consent(user=user)
    services.withdraw_consent(user=user, actor="x")
    other = make_user("other@example.com")
    give_consent(user=other, name="Other Person")

    response = otp_client(user).get(reverse("compliance:consent_history"))

    history = json.loads(response.content)
    assert history["schema"] == "proportrait.consent-history/1"
    assert [r["action"] for r in history["records"]] == ["given", "withdrawn"]
    assert history["documents"][0]["sha256"] == history["records"][0]["document"]["sha256"]
    assert "Other Person" not in response.content.decode()


def test_staff_filter_records_and_export_history_in_the_admin(staff_client: Any) -> None:
    job_id = uuid.uuid4()
    record = give_consent(job_id=job_id)
    url = reverse("admin:compliance_consentrecord_changelist")

    listing = staff_client.get(url, {"action__exact": "given", "document_kind__exact": "biometric"})
    assert listing.status_code == 200 and str(record.subject_id) in listing.content.decode()

    response = staff_client.post(url, {"action": "export_history", "_selected_action": [record.pk]})
    exported = json.loads(response.content)
    assert exported[0]["records"][0]["id"] == str(record.id)


def test_the_withdraw_control_is_one_button_for_other_pages_to_include() -> None:
    from django.template.loader import render_to_string

    html = render_to_string("compliance/_withdraw_control.html", {"action": "/x/"})
    assert html.count("<button") == 1 and 'action="/x/"' in html
    assert consent_act().checked  # consent is one box + a name; withdrawal is one button
