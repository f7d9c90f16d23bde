"""Sub-processor changes are announced first and take effect on their date (Art. 28(2),(4)).

Found in review: adding "FaceCloud Inc — decrypted photos in memory — US" in the admin showed at
once on the public page and in every DPA's Annex III, the notice said "you may object until 30
December" about a change already live, and the biometric notice stayed at the same version.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from compliance import pdf, services
from compliance.models import (
    AuditEvent,
    ConsentKind,
    SubProcessor,
    SubprocessorChange,
    SubprocessorChangeNotice,
    SubprocessorChangeStatus,
    SubprocessorObjection,
)
from compliance.services.subprocessors import apply_due_changes
from compliance.tests.conftest import message_parts, otp_client, pdf_text

pytestmark = pytest.mark.django_db

FACECLOUD = {
    "name": "FaceCloud Inc",
    "purpose": "Decrypted photos in memory",
    "location": "United States",
    "transfer_safeguard": "EU SCCs",
    "receives_photos": True,
}


def _admin_form(**overrides: Any) -> dict[str, Any]:
    return {
        "action": "add",
        "subprocessor": "",
        **{key: value for key, value in FACECLOUD.items() if key != "receives_photos"},
        "receives_photos": "on",
        "change_summary": "Adding FaceCloud Inc for GPU rendering.",
        "effective_at_0": "2026-07-02",
        "effective_at_1": "09:00:00",
        **overrides,
    }


def test_a_change_scheduled_in_the_admin_is_announced_but_not_live(
    staff_client: Any, team: Any, client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    services.accept_dpa(organisation=team.organisation, user=team.owner)
    with time_machine.travel("2026-06-01 09:00Z", tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            response = staff_client.post(reverse("admin:compliance_subprocessorchange_add"), _admin_form())
        assert response.status_code == 302

        change = SubprocessorChange.objects.get()
        assert change.status == SubprocessorChangeStatus.SCHEDULED
        assert not SubProcessor.objects.filter(name="FaceCloud Inc").exists()
        # The public register lists it as announced, with its date; the DPA's Annex III does not.
        page = client.get(reverse("compliance:subprocessors")).content.decode()
        assert "Announced changes" in page and "2 Jul 2026" in page
        dpa_text = pdf_text(pdf.render_dpa(services.dpa_context(team.organisation)))
        assert "Announced changes, not yet in effect" in dpa_text and "2026-07-02" in dpa_text
    # Organisations were told now, with the real date.
    assert SubprocessorChangeNotice.objects.get(change=change).recipients_count == 2
    message = mail.outbox[-1]
    assert sorted(message.to) == ["admin@acme.example", "owner@acme.example"]
    text, html = message_parts(message)
    for body in (text, html):
        assert "2 July 2026" in body and "FaceCloud Inc" in body and "fresh consent" in body
    assert AuditEvent.objects.filter(action="subprocessors.change_scheduled").exists()


def test_a_date_inside_the_notice_period_is_refused(staff_client: Any, settings: Any) -> None:
    settings.COMPLIANCE_SUBPROCESSOR_NOTICE_DAYS = 30
    with time_machine.travel("2026-06-01 09:00Z", tick=False):
        response = staff_client.post(
            reverse("admin:compliance_subprocessorchange_add"),
            _admin_form(effective_at_0="2026-06-15"),
            follow=True,
        )
        assert "at least 30 days after notice" in response.content.decode()
        with pytest.raises(services.SubprocessorChangeError, match="needs: location"):
            services.schedule_subprocessor_change(
                action="add", change_summary="x", actor="s", values={"name": "X", "purpose": "Y"}
            )
        with pytest.raises(services.SubprocessorChangeError, match="Describe the change"):
            services.schedule_subprocessor_change(
                action="add", change_summary=" ", actor="s", values=FACECLOUD
            )
    assert not SubprocessorChange.objects.exists()


def test_the_register_cannot_be_edited_directly(staff_client: Any) -> None:
    processor = SubProcessor.objects.first()
    assert processor is not None
    url = reverse("admin:compliance_subprocessor_change", args=[processor.pk])
    staff_client.post(url, {"name": "Renamed", "purpose": "x"})
    assert SubProcessor.objects.get(pk=processor.pk).name == processor.name
    assert staff_client.get(reverse("admin:compliance_subprocessor_add")).status_code == 403


def test_an_objection_during_the_notice_period_is_recorded_against_the_change(team: Any) -> None:
    change = services.schedule_subprocessor_change(
        action="add", change_summary="FaceCloud", actor="s", values=FACECLOUD
    )
    response = otp_client(team.owner).post(
        reverse("compliance:subprocessor_objection", args=[team.organisation.slug]),
        {"reason": "No US transfers"},
    )
    assert response.status_code == 302
    objection = SubprocessorObjection.objects.get()
    assert objection.change == change and objection.register_version is None
    assert AuditEvent.objects.get(action="subprocessors.objection").data["change"] == change.pk


def test_on_its_date_the_change_takes_effect_and_photos_need_fresh_consent(team: Any) -> None:
    services.accept_dpa(organisation=team.organisation, user=team.owner)
    notice_before = services.current_document(ConsentKind.BIOMETRIC)
    assert "No one else receives your photo." in notice_before.text
    with time_machine.travel("2026-06-01 09:00Z", tick=False):
        services.schedule_subprocessor_change(
            action="add", change_summary="FaceCloud", actor="s", values=FACECLOUD
        )
        assert apply_due_changes() == 0
    with time_machine.travel("2026-07-01 09:01Z", tick=False):
        assert apply_due_changes() == 1
        assert apply_due_changes() == 0  # once

    assert SubProcessor.objects.get(name="FaceCloud Inc").receives_photos
    notice_after = services.current_document(ConsentKind.BIOMETRIC)
    assert notice_after.version == notice_before.version + 1
    assert "FaceCloud Inc (Decrypted photos in memory, United States)" in notice_after.text
    # Someone who read the old notice must read the new one before uploading.
    with pytest.raises(services.ConsentError, match="changed"):
        services.check_biometric_consent(
            services.ConsentAct(
                checked=True, signature_name="Jane Example", document_version=notice_before.version, ip=None
            )
        )
    # The DPA keeps the Annex III it was accepted with and lists the change as a change.
    dpa_text = pdf_text(pdf.render_dpa(services.dpa_context(team.organisation)))
    annex, _, changes = dpa_text.partition("Changes since acceptance")
    assert "FaceCloud Inc" not in annex.split("Annex III")[-1]
    assert "FaceCloud" in changes
    assert AuditEvent.objects.filter(action="subprocessors.change_applied").count() == 1


def test_a_cancelled_change_never_takes_effect(team: Any) -> None:
    change = services.schedule_subprocessor_change(
        action="add", change_summary="FaceCloud", actor="s", values=FACECLOUD
    )
    with pytest.raises(services.SubprocessorChangeError, match="Say why"):
        services.cancel_subprocessor_change(change, actor="s", reason="")
    services.cancel_subprocessor_change(change, actor="s", reason="Customers objected")
    with time_machine.travel(timezone.now() + timedelta(days=40)):
        assert apply_due_changes() == 0
    assert not SubProcessor.objects.filter(name="FaceCloud Inc").exists()


def test_the_hourly_task_is_scheduled(settings: Any) -> None:
    from compliance import tasks

    entry = settings.CELERY_BEAT_SCHEDULE["compliance-subprocessor-changes"]
    assert entry["task"] == tasks.apply_subprocessor_changes.name
