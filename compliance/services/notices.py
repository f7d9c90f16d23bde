"""The biometric notice says what the code does, because it is rendered from the same settings
and register the code uses (the dead-man limit, the anonymous retention, who receives photos).

When the rendered text differs from the current published version, a new version is published
(and recorded): consent is always given to a text that matches the running system, and a person
who loaded the old text is asked to read the new one before uploading (check_biometric_consent).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string

from compliance.models import ConsentDocument, ConsentKind, SubProcessor

BIOMETRIC_TITLE = "Consent to process your photo (biometric data)"
BIOMETRIC_NOTES = (
    "GDPR Art. 9(2)(a); BIPA 740 ILCS 14/15(b) (electronic signature); Texas CUBI; RCW 19.375. "
    "Rendered from settings and the sub-processor register."
)


def photo_recipients() -> list[SubProcessor]:
    return list(SubProcessor.objects.filter(until__isnull=True, receives_photos=True).order_by("name"))


def render_biometric_notice() -> str:
    """The notice's text from the live settings and register."""
    return render_to_string(
        "compliance/notices/biometric.txt",
        {
            "deadman_minutes": settings.PROPORTRAIT_ORIGINAL_DEADMAN_MINUTES,
            "anonymous_hours": settings.PROPORTRAIT_ANONYMOUS_RETENTION_HOURS,
            "photo_recipients": photo_recipients(),
        },
    )


def sync_biometric_notice(*, actor: str = "system") -> ConsentDocument | None:
    """Publish a new biometric notice version if the live terms changed; return it, or None."""
    from compliance.services.consent import publish_document

    text = render_biometric_notice()
    latest = ConsentDocument.objects.filter(kind=ConsentKind.BIOMETRIC).order_by("-version").first()
    if latest is not None and latest.text == text:
        return None  # the common case, without a lock
    with transaction.atomic():
        current = (
            ConsentDocument.objects.select_for_update()
            .filter(kind=ConsentKind.BIOMETRIC)
            .order_by("-version")
            .first()
        )
        if current is not None and current.text == text:
            return None
        return publish_document(
            ConsentKind.BIOMETRIC,
            title=BIOMETRIC_TITLE,
            text=text,
            actor=actor,
            jurisdiction_notes=BIOMETRIC_NOTES,
        )
