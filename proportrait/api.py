"""API error shape shared by every app: {"error": {"code": "...", "message": "..."}}."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

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


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
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
