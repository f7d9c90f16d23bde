"""Records of processing (Art. 30) change only through the service: each edit a new version,
the old text kept, an audit event written; the record names controller, DPO and representatives."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from compliance import pdf, services
from compliance.models import AuditEvent, ProcessingActivity, ProcessingActivityVersion
from compliance.services import registers
from compliance.services.registers import ROPA_FIELDS
from compliance.tests.conftest import pdf_text

pytestmark = pytest.mark.django_db


def _values(activity: ProcessingActivity, **changes: str) -> dict[str, str]:
    return {**{field: str(getattr(activity, field)) for field, _ in ROPA_FIELDS}, **changes}


def test_an_admin_edit_makes_a_new_version_and_keeps_the_old(staff_client: Any) -> None:
    activity = ProcessingActivity.objects.order_by("pk").first()
    assert activity is not None
    old_retention = activity.retention
    url = reverse("admin:compliance_processingactivity_change", args=[activity.pk])

    missing_reason = staff_client.post(url, _values(activity, retention="12 months"))
    assert missing_reason.status_code == 200  # the form asks for a reason
    assert ProcessingActivity.objects.get(pk=activity.pk).retention == old_retention

    response = staff_client.post(
        url, {**_values(activity, retention="12 months"), "change_reason": "DPIA review"}
    )
    assert response.status_code == 302

    activity.refresh_from_db()
    assert activity.retention == "12 months" and activity.version == 2
    versions = {v.version: v for v in ProcessingActivityVersion.objects.filter(activity=activity)}
    assert versions[1].values["retention"] == old_retention  # from the migration
    assert versions[2].values["retention"] == "12 months" and versions[2].reason == "DPIA review"
    event = AuditEvent.objects.get(action="ropa.changed")
    assert event.data == {"version": 2, "fields": ["retention"]}


def test_activities_are_retired_not_deleted(staff_client: Any) -> None:
    activity = ProcessingActivity.objects.order_by("pk").first()
    assert activity is not None
    delete = staff_client.post(
        reverse("admin:compliance_processingactivity_delete", args=[activity.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    with pytest.raises(ValueError, match="Say why"):
        registers.retire_processing_activity(activity, actor="staff:1", reason="")
    registers.retire_processing_activity(activity, actor="staff:1", reason="We stopped it")
    assert activity.name not in [row["name"] for row in services.ropa_rows()]
    assert ProcessingActivity.objects.filter(pk=activity.pk).exists()
    assert AuditEvent.objects.filter(action="ropa.retired", object_id=str(activity.pk)).exists()


def test_the_record_names_who_is_responsible_and_each_version(settings: Any, team: Any) -> None:
    settings.PROPORTRAIT_DPO_NAME = "Dana Privacy"
    settings.PROPORTRAIT_EU_REPRESENTATIVE = "EU Rep GmbH, Berlin"
    services.accept_dpa(organisation=team.organisation, user=team.owner)
    activity = ProcessingActivity.objects.order_by("pk").first()
    assert activity is not None
    registers.save_processing_activity(
        activity, values=_values(activity, retention="12 months"), actor="staff:1", reason="review"
    )

    text = pdf_text(pdf.render_ropa(services.ropa_rows(), ROPA_FIELDS))

    assert "Dana Privacy" in text and settings.PROPORTRAIT_DPO_EMAIL in text
    assert "EU Rep GmbH, Berlin" in text
    assert "Not appointed" in text  # the UK representative is not set: it says so
    assert "Acme Widgets" in text  # 30(2)(a): the controllers we process for
    assert "Version 2, last updated" in text
