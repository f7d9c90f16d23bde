"""A refused upload keeps what the person typed and ticked, and puts the error next to its field."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from portraits.models import PortraitJob
from tests import photos

pytestmark = pytest.mark.django_db


def post(client: Client, photo: bytes | None, fields: dict[str, Any]) -> str:
    data = dict(fields)
    if photo is not None:
        data["photo"] = SimpleUploadedFile(photos.UPLOAD_FILENAME, photo)
    response = client.post("/try/", data)
    assert response.status_code == 400
    assert not PortraitJob.objects.exists()
    return response.content.decode()


def tag(html: str, element_id: str) -> str:
    found = re.search(rf'<[^>]*id="{element_id}"[^>]*>', html)
    assert found is not None, element_id
    return found.group(0)


def test_it_keeps_the_tick_the_name_and_the_style_after_a_photo_error(
    client: Client, consent_fields: Any
) -> None:
    html = post(client, b"GIF89a not really", {**consent_fields, "style": "creative-dark"})
    assert "checked" in tag(html, "id_consent")
    assert 'value="Jane Q. Example"' in tag(html, "id_signature")
    assert "checked" in tag(html, "style-creative-dark")
    assert "checked" not in tag(html, "style-corporate-grey")
    photo = tag(html, "id_photo")
    assert 'aria-invalid="true"' in photo and "id_photo_error" in photo
    assert "not a JPEG, PNG, WebP or HEIC" in html.split('id="id_photo_error"')[1].split("</p>")[0]
    assert "choose your photo again" in html  # the file itself is never kept: we say so


def test_an_unticked_box_is_marked_invalid_next_to_the_box(client: Client, consent_fields: Any) -> None:
    html = post(client, photos.face_jpeg(), {**consent_fields, "consent": ""})
    box = tag(html, "id_consent")
    assert 'aria-invalid="true"' in box and 'aria-describedby="id_consent_error"' in box
    assert "checked" not in box
    assert "Please tick the box" in html.split('id="id_consent_error"')[1].split("</p>")[0]
    assert 'value="Jane Q. Example"' in tag(html, "id_signature")
    assert 'aria-invalid="true"' not in tag(html, "id_photo")


def test_a_missing_name_is_marked_next_to_the_name(client: Client, consent_fields: Any) -> None:
    html = post(client, photos.face_jpeg(), {**consent_fields, "signature": " ", "style": "warm-office"})
    field = tag(html, "id_signature")
    assert 'aria-invalid="true"' in field and "id_signature_helptext id_signature_error" in field
    assert "checked" in tag(html, "id_consent") and "checked" in tag(html, "style-warm-office")
    assert "Please type your full name" in html.split('id="id_signature_error"')[1].split("</p>")[0]


def test_the_oversize_message_names_the_limit(client: Client, consent_fields: Any, settings: Any) -> None:
    settings.PROPORTRAIT_MAX_UPLOAD_BYTES = 2 * 1024 * 1024
    big = photos.face_jpeg(size=3000, quality=100)
    assert len(big) > settings.PROPORTRAIT_MAX_UPLOAD_BYTES
    html = post(client, big, consent_fields)
    assert 'data-error-code="file_too_large"' in html
    assert "larger than 2 MB, the most we accept" in html.split('id="id_photo_error"')[1].split("</p>")[0]
    # The page's script is given the same words for its own check before sending.
    assert 'data-message-size="This photo is larger than 2 MB, the most we accept.' in html
    assert 'data-max-bytes="2097152"' in html


def test_an_unknown_style_is_marked_next_to_the_styles(client: Client, consent_fields: Any) -> None:
    html = post(client, photos.face_jpeg(), {**consent_fields, "style": "no-such-style"})
    assert 'id="id_style_error"' in html and 'aria-describedby="id_style_error"' in html
