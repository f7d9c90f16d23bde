"""Wherever a style is chosen, the page says which generator is active and what it changes."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from gpu_worker.schemas import Backend
from gpu_worker.styles import BACKEND_NOTES

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("backend", list(Backend))
def test_the_upload_page_names_the_generator_and_what_it_changes(
    client: Client, consent_fields: Any, settings: Any, backend: Backend
) -> None:
    settings.PROPORTRAIT_BACKEND = backend.value
    html = client.get("/try/").content.decode()
    note = BACKEND_NOTES[backend]
    assert f"Generator: {note.name}." in html
    assert note.changes in html and note.keeps in html
    # The note sits with the style picker.
    assert html.index('name="style"') < html.index('id="backend-note"') < html.index('id="consent-heading"')


def test_the_studio_generator_says_it_cannot_change_clothes(
    client: Client, consent_fields: Any, settings: Any
) -> None:
    settings.PROPORTRAIT_BACKEND = Backend.STUDIO.value
    html = client.get("/try/").content.decode()
    assert "your clothes, hair and face exactly as in your photo" in html
