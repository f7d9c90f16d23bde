"""Template tags about the generator: what the active backend changes and what it keeps."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from gpu_worker.styles import backend_note as note_for

register = template.Library()


@register.inclusion_tag("portraits/_backend_note.html")
def backend_note(with_attire: bool = False) -> dict[str, Any]:
    """The active backend's note (gpu_worker.styles.BACKEND_NOTES), optionally with attire."""
    return {"note": note_for(settings.PROPORTRAIT_BACKEND), "with_attire": with_attire}
