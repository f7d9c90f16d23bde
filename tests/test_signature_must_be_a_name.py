"""The typed-name e-signature is a name: two letters at least, nothing invisible, stored NFC.

Found accepted: "..", two zero-width spaces, an RTL override, invalid UTF-8; and a NUL byte in
`signature` answered 500 on PostgreSQL because the fields were read raw, never through their
serializer. Every refusal is answered in the documented JSON shape and stores nothing.
Runs on both stacks.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from compliance.models import ConsentRecord
from portraits.models import PortraitJob
from tests import photos

pytestmark = pytest.mark.django_db


def upload(client: Any, fields: dict[str, Any]) -> Any:
    return client.post(
        "/api/v1/jobs/",
        {**fields, "photo": SimpleUploadedFile(photos.UPLOAD_FILENAME, photos.face_jpeg())},
        format="multipart",
    )


def assert_refused(response: Any, code: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    assert not PortraitJob.objects.exists() and not ConsentRecord.objects.exists()


REFUSED = [
    ("..", "punctuation only"),
    ("\u200b\u200b", "two zero-width spaces"),
    ("\u202eJane Doe", "right-to-left override"),
    ("Jane\u2066 Doe", "left-to-right isolate"),
    ("Ja\u200dne Doe", "zero-width joiner inside"),
    ("J", "one letter"),
    ("   ", "spaces only"),
    ("Jane\x07Doe", "a control character"),
    ("Jane\u2028Doe", "a line separator"),
    ("Jane \ufffd Doe", "a replacement character (undecodable bytes)"),
    ("12 34", "digits only"),
]


@pytest.mark.parametrize(("signature", "why"), REFUSED, ids=[row[1] for row in REFUSED])
def test_it_refuses_a_signature_that_is_not_a_name(
    api_client: Any, consent_fields: dict[str, Any], signature: str, why: str
) -> None:
    response = upload(api_client, {**consent_fields, "signature": signature})

    assert_refused(response, "consent_required")


def test_a_nul_byte_is_refused_in_the_documented_shape_not_a_server_error(
    api_client: Any, consent_fields: dict[str, Any]
) -> None:
    response = upload(api_client, {**consent_fields, "signature": "Jane\x00Doe"})

    assert_refused(response, "consent_required")


@pytest.mark.parametrize("field", ["style", "consent_version", "consent"])
def test_a_nul_byte_in_any_field_is_refused_through_its_serializer(
    api_client: Any, consent_fields: dict[str, Any], field: str
) -> None:
    response = upload(api_client, {**consent_fields, field: f"{consent_fields[field]}\x00"})

    assert_refused(response, "invalid_request")
    assert field in response.json()["error"]["message"]


def test_invalid_utf8_in_the_signature_is_refused(api_client: Any, consent_fields: dict[str, Any]) -> None:
    boundary = "----proportrait-test"
    parts = []
    for name, value in {**consent_fields, "signature": None}.items():
        raw = b"Jane \xff\xfe Doe" if name == "signature" else str(value).encode()
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + raw + b"\r\n"
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="me.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n".encode()
        + photos.face_jpeg()
        + b"\r\n"
    )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()

    response = api_client.generic(
        "POST", "/api/v1/jobs/", body, content_type=f"multipart/form-data; boundary={boundary}"
    )

    assert_refused(response, "consent_required")


@pytest.mark.parametrize(
    "typed",
    [
        unicodedata.normalize("NFD", "Zoë Ångström"),  # decomposed: stored composed (NFC)
        "  Siobhán   O'Brien-Ní Fhaoláin ",
        "李小龍",
        "محمد علي",  # right-to-left script is a name; an override character is not
    ],
)
def test_it_accepts_real_names_and_stores_them_nfc(
    api_client: Any, consent_fields: dict[str, Any], typed: str
) -> None:
    response = upload(api_client, {**consent_fields, "signature": typed})

    assert response.status_code == 201, response.content
    stored = ConsentRecord.objects.get(job_id=response.json()["id"]).signature_name
    assert stored == " ".join(unicodedata.normalize("NFC", typed).split())
    assert unicodedata.is_normalized("NFC", stored)
