"""The DPIA (Art. 35) is generated from the live system: records of processing, settings, measured
evidence, a DPO-opinion field and a review date. Colorado's assessment reuses it."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from compliance import pdf
from compliance.audit import record_event
from compliance.models import ProcessingActivity
from compliance.services.dpia import dpia_context
from compliance.tests.conftest import otp_client, pdf_text
from compliance.tests.tamper import set_event_data
from compliance.tests.test_documents import save_sample

pytestmark = pytest.mark.django_db


def test_the_dpia_states_the_live_processing_measures_and_evidence(settings: Any, committed: Any) -> None:
    settings.PROPORTRAIT_ORIGINAL_DEADMAN_MINUTES = 11
    settings.PROPORTRAIT_DPO_NAME = "Dana Privacy"
    from compliance import checkpoints

    record_event("job.created", object_id="j1")
    with committed():
        checkpoints.sign_checkpoint()

    content = pdf.render_dpia(dpia_context())
    text = pdf_text(content)

    for activity in ProcessingActivity.objects.filter(retired_at__isnull=True):
        assert activity.name in text
    for expected in (
        "Necessity and proportionality",
        "Likelihood",
        "Severity",
        "Residual",
        "AES-256-GCM",
        "11 minutes",
        "No embedding or template",
        "Dana Privacy",
        "To be completed by the DPO",
        "Next review",
        "Colorado data protection assessment",
        "keyed chain and published checkpoints intact",
    ):
        assert expected in text, expected
    save_sample("dpia", content)


def test_the_dpia_reports_a_broken_audit_log_and_the_dpo_opinion(settings: Any) -> None:
    settings.PROPORTRAIT_DPIA_DPO_OPINION = "Residual risk acceptable; no prior consultation needed."
    event = record_event("job.created", object_id="j1", data={"n": 1})
    set_event_data(event.sequence, {"n": 2})

    text = pdf_text(pdf.render_dpia(dpia_context()))

    assert "DOES NOT VERIFY" in text
    assert "Residual risk acceptable; no prior consultation needed." in text
    assert "To be completed by the DPO" not in text


def test_only_staff_with_a_second_factor_download_it(staff: Any, team: Any) -> None:
    url = reverse("compliance:dpia_pdf")
    assert otp_client(team.owner).get(url).status_code == 403
    staff.is_superuser = True
    staff.save()
    response = otp_client(staff).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
