"""API error shape shared by every app: {"error": {"code": "...", "message": "..."}}."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent, TooManyFilesSent
from drf_spectacular.utils import inline_serializer
from rest_framework import exceptions, parsers, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

# Every code an /api/ answer may carry, with what it means; the OpenAPI schema lists them.
ERROR_CODES: dict[str, str] = {
    "invalid_request": "A field is missing or invalid, the body is not valid JSON or multipart, "
    "or it has too many fields or files.",
    "consent_required": "Explicit biometric consent (consent, consent_version, signature) is missing.",
    "unsupported_format": "The photo is not a JPEG, PNG, WebP or HEIC file (or a variant we do not take).",
    "file_too_large": "The photo is over the byte cap.",
    "image_too_large": "The photo's declared dimensions are over the pixel cap.",
    "image_too_complex": "The photo's structure would cost too much to decode: too many scans, chunks, "
    "frames, items or tiles, metadata that inflates past its limit, or (for a job) a decode over its "
    "CPU budget.",
    "corrupt_image": "The photo's structure is malformed (at upload), or its image data is "
    "(as a failed job).",
    "no_face": "No face was found (a failed job, or at upload).",
    "multiple_faces": "More than one face was found.",
    "face_too_small": "The face is too small in the photo.",
    "photo_too_small": "The photo has too few pixels for a sharp portrait (at upload from its header, or "
    "as a failed job once the face is found); upload a larger or less cropped photo.",
    "original_unavailable": "The photo's key was lost from the volatile key store before it could be "
    "processed (a failed job); the photo is destroyed; please upload it again.",
    "generation_failed": "Generating the portraits failed, or took longer than the limit (a failed job); "
    "the photo is destroyed; please try again.",
    "out_of_memory": "The generator ran out of memory on this photo (a failed job); the photo is destroyed; "
    "please try again or upload a smaller photo.",
    "service_unavailable": "A dependency (database, storage, key store) is briefly down; nothing was "
    "kept. Retry after the Retry-After header's seconds (503).",
    "insufficient_storage": "The server's local storage is nearly full; nothing was kept. Retry later (503).",
    "rate_limited": "Too many requests from this client; wait and retry.",
    "not_found": "No such resource, or it is not visible to you; also any unknown URL under /api/.",
    "not_authenticated": "Authentication is required or failed.",
    "permission_denied": "You may not do this.",
    "method_not_allowed": "This URL does not take this HTTP method.",
    "unsupported_media_type": "The body's content type is not accepted here.",
    "request_too_large": "The request body is over the size limit for this endpoint.",
    "server_error": "An unexpected error on our side; nothing about the request is echoed.",
}

# The one schema component for {"error": {"code", "message"}}, shared by every app's API.
ERROR_SCHEMA = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorBody", fields={"code": serializers.CharField(), "message": serializers.CharField()}
        )
    },
)


class ApiError(exceptions.APIException):
    """Raise from any API view to answer with a documented error code."""

    def __init__(self, code: str, message: str, http_status: int = status.HTTP_400_BAD_REQUEST) -> None:
        self.status_code = http_status
        self.error_code = code
        super().__init__(detail=message, code=code)


def error_response(code: str, message: str, http_status: int = status.HTTP_400_BAD_REQUEST) -> Response:
    return Response({"error": {"code": code, "message": message}}, status=http_status)


_CODES_BY_EXCEPTION: list[tuple[type[exceptions.APIException], str]] = [
    (exceptions.NotFound, "not_found"),
    (exceptions.NotAuthenticated, "not_authenticated"),
    (exceptions.AuthenticationFailed, "not_authenticated"),
    (exceptions.PermissionDenied, "permission_denied"),
    (exceptions.Throttled, "rate_limited"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.ParseError, "invalid_request"),
    (exceptions.ValidationError, "invalid_request"),
]


def error_for_django_exception(exc: Exception) -> tuple[str, str, int] | None:
    """(code, message, status) for the Django exceptions a request's body can raise."""
    if isinstance(exc, RequestDataTooBig):
        return "request_too_large", "The request body is too large.", status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    if isinstance(exc, TooManyFilesSent):
        return "invalid_request", "Too many files in one request: send one photo.", 400
    if isinstance(exc, TooManyFieldsSent):
        return "invalid_request", "Too many fields in one request.", 400
    if isinstance(exc, SuspiciousOperation):
        return "invalid_request", "The request could not be read.", 400
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    django_error = error_for_django_exception(exc)
    if django_error is not None:
        return error_response(*django_error)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: Django's handler500 answers (proportrait.errors)
    if isinstance(exc, ApiError):
        return error_response(exc.error_code, str(exc.detail), exc.status_code)
    code = next((name for cls, name in _CODES_BY_EXCEPTION if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.ValidationError):
        message = _flatten_validation(exc.detail)
    elif isinstance(exc, exceptions.NotFound):
        message = "Not found."
    else:
        message = str(getattr(exc, "detail", exc))
    payload: dict[str, Any] = {"error": {"code": code, "message": message}}
    if isinstance(exc, exceptions.ValidationError):
        payload["error"]["fields"] = exc.detail
    response.data = payload
    return response


def _flatten_validation(detail: Any) -> str:
    if isinstance(detail, dict):
        parts = [f"{key}: {_flatten_validation(value)}" for key, value in detail.items()]
        return "; ".join(parts)
    if isinstance(detail, list):
        return " ".join(_flatten_validation(item) for item in detail)
    return str(detail)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, but a body nested too deeply for Python's parser is a 400, not a 500."""

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None
