"""The brand-style page says whether the attire setting has any effect with the active generator."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from accounts.tests.conftest import Team, verified_client
from gpu_worker.schemas import Backend
from gpu_worker.styles import BACKEND_NOTES

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("backend", list(Backend))
def test_the_brand_style_page_says_what_attire_does(team: Team, settings: Any, backend: Backend) -> None:
    settings.PROPORTRAIT_BACKEND = backend.value
    client = verified_client(team.owner)
    response = client.get(reverse("accounts:org_settings", args=[team.organisation.slug]))
    assert response.status_code == 200
    html = response.content.decode()
    note = BACKEND_NOTES[backend]
    assert f"Generator: {note.name}." in html and note.attire in html
    assert html.index('name="attire_prompt"') < html.index('id="backend-note"')
    if backend is Backend.STUDIO:
        assert "no effect" in html
