"""Django's error handlers: JSON in the documented error shape under /api/, pages elsewhere.

DRF answers errors raised inside API views (proportrait.api.exception_handler); these handlers
answer everything else under /api/: unknown URLs, bodies Django refuses before a view runs,
and unexpected errors.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve

from portraits import views as pages
from proportrait.api import error_for_django_exception

API_PREFIX = "/api/"


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def _json(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not _is_api(request):
        return pages.bad_request(request, exception)
    error = error_for_django_exception(exception) if exception is not None else None
    return _json(*(error or ("invalid_request", "The request could not be read.", 400)))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not _is_api(request):
        return pages.permission_denied(request, exception)
    return _json("permission_denied", "You may not do this.", 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not _is_api(request):
        return pages.page_not_found(request, exception)
    if not request.path.endswith("/") and _resolves(
        request.path_info + "/", getattr(request, "urlconf", None)
    ):
        return _json(
            "not_found", f"There is no API endpoint at this URL; did you mean {request.path}/ ?", 404
        )
    return _json("not_found", "There is no API endpoint at this URL.", 404)


def _resolves(path: str, urlconf: object) -> bool:
    try:
        resolve(path, urlconf)  # type: ignore[arg-type]
    except Resolver404:
        return False
    return True


def server_error(request: HttpRequest) -> HttpResponse:
    if not _is_api(request):
        return pages.server_error(request)
    return _json("server_error", "Something went wrong on our side. Please try again in a minute.", 500)
