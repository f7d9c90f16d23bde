"""The biometric notice is rendered from the live settings and register; a change is a new version."""

from __future__ import annotations

from typing import Any

import pytest

from compliance import services
from compliance.models import AuditEvent, ConsentDocument, ConsentKind
from compliance.services.notices import render_biometric_notice

pytestmark = pytest.mark.django_db


def test_with_the_default_settings_the_published_text_is_the_rendered_one(settings: Any) -> None:
    notice = services.current_document(ConsentKind.BIOMETRIC)
    assert notice.text == render_biometric_notice()
    assert f"{settings.PROPORTRAIT_ORIGINAL_DEADMAN_MINUTES} minutes" in notice.text
    assert f"{settings.PROPORTRAIT_ANONYMOUS_RETENTION_HOURS} hours" in notice.text


def test_a_changed_setting_publishes_a_new_version_that_states_it(settings: Any) -> None:
    before = services.current_document(ConsentKind.BIOMETRIC)
    settings.PROPORTRAIT_ORIGINAL_DEADMAN_MINUTES = 5
    settings.PROPORTRAIT_ANONYMOUS_RETENTION_HOURS = 1

    after = services.current_document(ConsentKind.BIOMETRIC)

    assert after.version == before.version + 1
    assert "never kept longer than 5 minutes" in after.text and "after 1 hour." in after.text
    assert "15 minutes" not in after.text
    assert ConsentDocument.objects.get(pk=before.pk).text == before.text  # the old one stays
    assert services.current_document(ConsentKind.BIOMETRIC).version == after.version  # once
    assert AuditEvent.objects.filter(action="consent.document_published").count() == 1


def test_consent_to_the_old_text_is_refused_after_a_change(settings: Any) -> None:
    before = services.current_document(ConsentKind.BIOMETRIC)
    settings.PROPORTRAIT_ORIGINAL_DEADMAN_MINUTES = 30
    act = services.ConsentAct(
        checked=True, signature_name="Jane Example", document_version=before.version, ip=None
    )
    with pytest.raises(services.ConsentError, match="has changed"):
        services.check_biometric_consent(act)


def test_the_upload_page_shows_the_live_terms(client: Any, settings: Any) -> None:
    settings.PROPORTRAIT_ORIGINAL_DEADMAN_MINUTES = 7
    page = client.get("/try/").content.decode()
    assert "never kept longer than 7 minutes" in page
