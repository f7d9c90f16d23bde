"""OpenAPI post-processing: every operation lists the error answers it can give."""

from __future__ import annotations

from typing import Any

from proportrait.api import ERROR_CODES

ERROR_REF = {"$ref": "#/components/schemas/Error"}
# What a photo upload may be refused with at once (400), beyond a bad or missing field.
UPLOAD_CODES = [
    "invalid_request",
    "consent_required",
    "unsupported_format",
    "file_too_large",
    "image_too_large",
    "image_too_complex",
    "corrupt_image",
    "no_face",
    "multiple_faces",
    "face_too_small",
]
_UPLOAD_PATHS = {"/api/v1/jobs/"}


def _describe(codes: list[str]) -> str:
    return "Error codes: " + "; ".join(f"`{code}`: {ERROR_CODES[code]}" for code in codes)


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular hook: 400/413 where a body is taken, 500 everywhere, each in the Error
    shape with the codes it may carry; the API description lists every code."""
    result.setdefault("components", {}).setdefault("schemas", {})
    result["info"]["description"] = (
        result["info"].get("description", "")
        + "\n\nEvery error, including unknown URLs under /api/ (404 `not_found`), is "
        '`{"error": {"code": "...", "message": "..."}}`.\n\n'
        + "\n".join(f"- `{code}`: {meaning}" for code, meaning in ERROR_CODES.items())
    )
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            takes_body = "requestBody" in operation
            if takes_body or operation.get("parameters"):
                codes = UPLOAD_CODES if path in _UPLOAD_PATHS and method == "post" else ["invalid_request"]
                _set(responses, "400", _describe(codes))
            if takes_body:
                _set(responses, "413", _describe(["request_too_large"]))
            if "429" in responses:
                _set(responses, "429", _describe(["rate_limited"]))
            if "404" in responses:
                _set(responses, "404", _describe(["not_found"]))
            _set(responses, "500", _describe(["server_error"]))
    return result


def _set(responses: dict[str, Any], status: str, description: str) -> None:
    response = responses.setdefault(status, {})
    response["description"] = description
    response.setdefault("content", {"application/json": {"schema": ERROR_REF}})
