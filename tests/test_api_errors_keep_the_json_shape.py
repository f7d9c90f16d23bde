"""Every answer under /api/ is the documented JSON error shape, with a 4xx for bad input, even
when Django refuses the request before a view runs, or the URL matches nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from portraits.models import PortraitJob
from tests import photos

pytestmark = pytest.mark.django_db


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content[:200]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


@pytest.mark.parametrize("url", ["/api/v1/nothing-here/", "/api/v2/jobs/", "/api/"])
def test_it_answers_unknown_api_urls_with_json_404(client: Client, url: str) -> None:
    _error(client.get(url), 404, "not_found")
    _error(client.post(url, data="{}", content_type="application/json"), 404, "not_found")


def test_an_api_url_without_its_slash_is_json_404_naming_the_right_url(client: Client) -> None:
    # Not a 301: a redirected POST would become a GET and lose its body.
    error = _error(client.post("/api/v1/jobs", data="{}", content_type="application/json"), 404, "not_found")
    assert "/api/v1/jobs/" in error["message"]
    _error(client.get("/api/v1/styles"), 404, "not_found")
    # Pages keep Django's friendly redirect.
    assert client.get("/try").status_code == 301


def test_pages_outside_the_api_stay_html(client: Client) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_it_answers_a_json_body_over_the_limit_with_413(client: Client, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"email": "a@example.com", "request_type": "access", "details": "x" * 20_000})
    _error(client.post("/api/v1/dsar/", data=body, content_type="application/json"), 413, "request_too_large")


def test_it_answers_a_multipart_field_over_the_limit_with_413(
    client: Client, settings: Any, consent_fields: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    fields = {
        **consent_fields,
        "signature": "x" * 20_000,
        "photo": SimpleUploadedFile("a.jpg", photos.face_jpeg(256)),
    }
    _error(client.post("/api/v1/jobs/", fields), 413, "request_too_large")
    assert PortraitJob.objects.count() == 0


def test_it_answers_too_many_fields_with_400(client: Client, consent_fields: Any, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 50
    fields: dict[str, Any] = {**consent_fields, **{f"field{index}": "x" for index in range(60)}}
    fields["photo"] = SimpleUploadedFile("a.jpg", photos.face_jpeg(256))
    error = _error(client.post("/api/v1/jobs/", fields), 400, "invalid_request")
    assert "fields" in error["message"]
    assert PortraitJob.objects.count() == 0


def test_it_answers_too_many_files_with_400(client: Client, consent_fields: Any) -> None:
    fields = {
        **consent_fields,
        "photo": SimpleUploadedFile("a.jpg", photos.face_jpeg(256)),
        "extra": SimpleUploadedFile("b.jpg", photos.face_jpeg(256)),
    }
    error = _error(client.post("/api/v1/jobs/", fields), 400, "invalid_request")
    assert "files" in error["message"]
    assert PortraitJob.objects.count() == 0


def test_it_answers_deeply_nested_json_with_400(client: Client) -> None:
    # This gave a 500 (RecursionError) on both stacks.
    response = client.post("/api/v1/dsar/", data="[" * 100_000, content_type="application/json")
    _error(response, 400, "invalid_request")


def test_it_answers_malformed_json_with_400(client: Client) -> None:
    _error(
        client.post("/api/v1/dsar/", data="{nope", content_type="application/json"), 400, "invalid_request"
    )


def test_it_answers_a_wrong_method_with_json_405(client: Client) -> None:
    _error(client.delete("/api/v1/styles/"), 405, "method_not_allowed")


def test_an_unexpected_error_under_the_api_is_json_500_and_echoes_nothing(monkeypatch: Any) -> None:
    from portraits.api import StyleListView

    def explode(self: Any, request: Any) -> Any:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(StyleListView, "get", explode)
    client = Client(raise_request_exception=False)
    error = _error(client.get("/api/v1/styles/"), 500, "server_error")
    assert "secret" not in error["message"]


def test_the_schema_lists_the_error_answers_of_every_operation(client: Client) -> None:
    schema = yaml.safe_load(client.get("/api/v1/schema/").content)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "500" in responses, (path, method)
            if "requestBody" in operation:
                assert {"400", "413"} <= set(responses), (path, method)
                assert "request_too_large" in responses["413"]["description"]
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    content = response["content"]["application/json"]["schema"]
                    assert content == {"$ref": "#/components/schemas/Error"}, (path, method, status)
    assert "not_found" in schema["info"]["description"]
