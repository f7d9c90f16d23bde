"""The OpenAPI document describes the REST API v1 contract of DESIGN.md, without warnings."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db

CONTRACT = {
    "/api/v1/styles/": {"get"},
    "/api/v1/consent/current/": {"get"},
    "/api/v1/jobs/": {"post"},
    "/api/v1/jobs/{job_id}/": {"get", "delete"},
    "/api/v1/dsar/": {"post"},
    "/api/v1/dsar/{request_id}/verify/": {"post"},
    "/api/v1/retention-policy/": {"get"},
}


def test_the_schema_lists_every_contract_endpoint(client: Any) -> None:
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    for path, methods in CONTRACT.items():
        assert path in schema["paths"], f"{path} missing from the schema"
        assert methods <= set(schema["paths"][path]), path
    assert "Error" in schema["components"]["schemas"]


def test_the_schema_generates_without_warnings(tmp_path: Any) -> None:
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
