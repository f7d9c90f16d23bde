"""Site-wide middleware: Content-Security-Policy (everything from our own origin, nothing from a
third party), and Django's CommonMiddleware without its slash redirects under /api/.

The one CSP exception: while payments are on, a form may lead to Stripe's hosted Checkout (Buy
posts to us, we answer 303 to checkout.stripe.com, and form-action governs that redirect too).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.common import CommonMiddleware as DjangoCommonMiddleware

# Kept equal to portraits.payments.stripe_gateway.CHECKOUT_ORIGIN (a test checks it).
STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"

_DIRECTIVES = [
    "default-src 'self'",
    "img-src 'self' data: blob:",
    "script-src 'self'",
    "style-src 'self'",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
]
CONTENT_SECURITY_POLICY = "; ".join(_DIRECTIVES)
PAYMENTS_CONTENT_SECURITY_POLICY = "; ".join(
    f"{directive} {STRIPE_CHECKOUT_ORIGIN}" if directive == "form-action 'self'" else directive
    for directive in _DIRECTIVES
)


def content_security_policy() -> str:
    return (
        PAYMENTS_CONTENT_SECURITY_POLICY if settings.PROPORTRAIT_PAYMENTS_ENABLED else CONTENT_SECURITY_POLICY
    )


PERMISSIONS_POLICY = "camera=(self), microphone=(), geolocation=(), interest-cohort=()"


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class CommonMiddleware(DjangoCommonMiddleware):
    """Under /api/ a URL without its trailing slash is not redirected: a 301 would turn a POST
    into a GET and drop its body, and it is not the API's JSON. It answers 404 `not_found`
    naming the URL to use (proportrait.errors.page_not_found)."""

    def should_redirect_with_slash(self, request: HttpRequest) -> bool:
        if request.path_info.startswith("/api/"):
            return False
        return super().should_redirect_with_slash(request)
