"""Clean answers while a dependency (database, object storage, broker, local disk) is down.

Every /api/ answer is then JSON, `503 {"error": {"code": "service_unavailable", ...}}` with a
Retry-After header (`insufficient_storage` when the embedded default's disk is nearly full);
pages say, readably, to try again shortly. Nothing of a refused request is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)

# Pages add "Nothing was stored" themselves; the API's error code says the same.
SERVICE_UNAVAILABLE_MESSAGE = "The service is briefly unavailable. Please try again shortly."
INSUFFICIENT_STORAGE_MESSAGE = (
    "We cannot accept uploads right now because our storage is nearly full. Please try again later."
)


class ServiceUnavailable(Exception):
    """A dependency is down: the request was not accepted, nothing was kept; try again shortly."""

    code = "service_unavailable"
    message = SERVICE_UNAVAILABLE_MESSAGE

    def __init__(self, reason: str = "dependency", retry_after_seconds: int = 30) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_seconds = retry_after_seconds


class DiskSpaceLow(ServiceUnavailable):
    """The embedded default's disk is nearly full: uploads are refused before they are accepted."""

    code = "insufficient_storage"
    message = INSUFFICIENT_STORAGE_MESSAGE

    def __init__(self, retry_after_seconds: int = 300) -> None:
        super().__init__("disk_space_low", retry_after_seconds)


def outage_answer(error: ServiceUnavailable) -> tuple[str, str, int]:
    """(error code, plain message, HTTP status) for a refusal during an outage."""
    return error.code, error.message, 503


def _as_outage(exception: Exception) -> ServiceUnavailable | None:
    if isinstance(exception, ServiceUnavailable):
        return exception
    from portraits.faults import is_transient

    if isinstance(exception, OperationalError | InterfaceError) or is_transient(exception):
        return ServiceUnavailable(type(exception).__name__)
    return None


class ServiceUnavailableMiddleware:
    """Turns an outage that reached a view into a 503 the client can act on, never an HTML 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        outage = _as_outage(exception)
        if outage is None:
            return None
        logger.warning("%s %s: answered 503 (%s)", request.method, request.path, outage.reason)
        code, message, status = outage_answer(outage)
        response: HttpResponse
        if request.path.startswith("/api/"):
            response = JsonResponse({"error": {"code": code, "message": message}}, status=status)
        else:
            try:
                response = render(
                    request,
                    "errors/error.html",
                    {"heading": "Please try again shortly", "message": message},
                    status=status,
                )
            except Exception:  # the template needs nothing from the database, but be safe
                response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(outage.retry_after_seconds)
        response["Cache-Control"] = "no-store"
        return response
