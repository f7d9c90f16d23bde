"""Web pages of the anonymous flow, and the site's error pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def _error_page(request: HttpRequest, status: int, heading: str, message: str) -> HttpResponse:
    return render(request, "errors/error.html", {"heading": heading, "message": message}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(request, 400, "We could not read that request", "Please go back and try again.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(
        request, 403, "You do not have access to this page", "If you think you should, log in or use the link you were given."
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(
        request,
        404,
        "We could not find that page",
        "It may have been deleted, or its link may have expired. Portraits are deleted when their time is up.",
    )


def server_error(request: HttpRequest) -> HttpResponse:
    return _error_page(request, 500, "Something went wrong on our side", "Please try again in a minute.")
