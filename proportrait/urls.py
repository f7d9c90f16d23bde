from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView

from accounts.passkey_views import ceremony_urlpatterns

api_v1: list[URLPattern | URLResolver] = [
    path("", include("portraits.api", namespace="portraits-api")),
    path("", include("compliance.api")),
    path("", include("accounts.api")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("accounts/", include("accounts.urls")),
    # WebAuthn ceremonies for passkeys (second factor only); the names live in "otp_webauthn".
    path("accounts/passkeys/", include((ceremony_urlpatterns, "otp_webauthn"))),
    path("", include("compliance.urls")),
    path("", include("portraits.urls")),
]

handler400 = "proportrait.errors.bad_request"
handler403 = "proportrait.errors.permission_denied"
handler404 = "proportrait.errors.page_not_found"
handler500 = "proportrait.errors.server_error"
