"""Passkey pages and the WebAuthn ceremony endpoints (django-otp-webauthn's views, made stricter).

- Registration needs a session that has passed a second factor, always: the library lets a
  password-only session of an account without any device register its first one; here the
  authenticator app comes first, so that it and the backup codes remain the way back in.
- Authentication serves the second step of a log-in in progress (password checked, user id in
  the session) and a signed-in person stepping up for admin features. With no such user there
  is nothing to verify: passwordless log-in is off.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.i18n import JavaScriptCatalog
from django_otp import login as otp_login
from django_otp_webauthn import exceptions as webauthn_errors
from django_otp_webauthn import views as webauthn_views

from accounts import passkeys, security, services
from accounts.models import User
from accounts.views import BACKEND, PENDING_NEXT_KEY, PENDING_USER_KEY, verified_required


class SecondFactorRequired(webauthn_errors.OTPWebAuthnApiError):
    status_code = 403
    default_code = "second_factor_required"
    default_detail = "Confirm a code from your authenticator app first, then add a passkey."


class PasskeysOff(webauthn_errors.OTPWebAuthnApiError):
    status_code = 403
    default_code = "passkeys_off"
    default_detail = "Passkeys work only when this site is served over https:// (or on localhost)."


class LockedOut(webauthn_errors.OTPWebAuthnApiError):
    status_code = 429
    default_code = "locked"
    default_detail = "Too many failed attempts. Please wait a few minutes and try again."


def _pending_user(request: HttpRequest) -> User | None:
    pending = request.session.get(PENDING_USER_KEY)
    return User.objects.filter(pk=pending, is_active=True).first() if pending else None


class _StrictRegistration:
    request: HttpRequest

    def check_can_register(self) -> None:
        if not settings.PROPORTRAIT_PASSKEYS_ENABLED:
            raise PasskeysOff()
        if not self.request.user.is_verified():  # type: ignore[union-attr]
            raise SecondFactorRequired()


class BeginPasskeyRegistration(_StrictRegistration, webauthn_views.BeginCredentialRegistrationView):
    pass


class CompletePasskeyRegistration(_StrictRegistration, webauthn_views.CompleteCredentialRegistrationView):
    def post(self, *args: Any, **kwargs: Any) -> JsonResponse:
        response: JsonResponse = super().post(*args, **kwargs)
        user: User = self.request.user  # type: ignore[assignment]  # registration needs a log-in
        credential = passkeys.user_passkeys(user).filter(pk=_response_id(response)).first()
        if credential is not None:
            passkeys.record_passkey_added(user, credential)
        return response


def _response_id(response: JsonResponse) -> Any:
    import json

    return json.loads(response.content).get("id")


class _SecondStepAuthentication:
    request: HttpRequest

    def get_user(self) -> User | None:
        if self.request.user.is_authenticated:
            return self.request.user  # type: ignore[return-value]
        return _pending_user(self.request)

    def check_can_authenticate(self) -> None:
        if not settings.PROPORTRAIT_PASSKEYS_ENABLED:
            raise PasskeysOff()
        user = self.get_user()
        if user is None:
            raise webauthn_errors.PasswordlessLoginDisabled()
        if security.is_locked(user.email):
            raise LockedOut()


class BeginPasskeyAuthentication(_SecondStepAuthentication, webauthn_views.BeginCredentialAuthenticationView):
    pass


class CompletePasskeyAuthentication(
    _SecondStepAuthentication, webauthn_views.CompleteCredentialAuthenticationView
):
    def handle_exception(self, exc: Exception) -> Any:
        user = self.get_user()
        counts = isinstance(exc, webauthn_errors.OTPWebAuthnApiError) and not isinstance(
            exc, LockedOut | webauthn_errors.InvalidState
        )
        if user is not None and counts:
            failures = security.register_login_failure(user.email)
            services.record_login_failure(
                user, stage="passkey", failures=failures, locked=security.is_locked(user.email)
            )
        return super().handle_exception(exc)

    def complete_auth(self, device: Any) -> None:
        user = self.get_user()
        if user is None or device.user_id != user.pk:
            raise webauthn_errors.CredentialNotFound()
        security.clear_login_failures(user.email)
        if not self.request.user.is_authenticated:
            auth_login(self.request, user, backend=BACKEND)
            services.record_login(user, second_factor=True)
        otp_login(self.request, device)

    def get_success_url(self) -> str:
        pending_next = self.request.session.pop(PENDING_NEXT_KEY, None)
        self.request.session.pop(PENDING_USER_KEY, None)
        return self.get_redirect_url() or pending_next or reverse(settings.LOGIN_REDIRECT_URL)


# The library's template tags reverse these names in the "otp_webauthn" namespace.
ceremony_urlpatterns = [
    path("registration/begin/", BeginPasskeyRegistration.as_view(), name="credential-registration-begin"),
    path(
        "registration/complete/",
        CompletePasskeyRegistration.as_view(),
        name="credential-registration-complete",
    ),
    path(
        "authentication/begin/", BeginPasskeyAuthentication.as_view(), name="credential-authentication-begin"
    ),
    path(
        "authentication/complete/",
        CompletePasskeyAuthentication.as_view(),
        name="credential-authentication-complete",
    ),
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]), name="js-i18n-catalog"),
]


# --- The page: list, add, name, remove


@never_cache
@verified_required
def passkey_list(request: HttpRequest) -> HttpResponse:
    """The account's passkeys; adding one runs the WebAuthn ceremony in the browser."""
    user: User = request.user  # type: ignore[assignment]
    context = {
        "passkeys": list(passkeys.user_passkeys(user)),
        "has_authenticator": services.has_two_factor(user),
        "max_name_length": passkeys.MAX_NAME_LENGTH,
        "passkeys_enabled": settings.PROPORTRAIT_PASSKEYS_ENABLED,
    }
    return render(request, "accounts/passkeys.html", context)


@require_POST
@verified_required
def passkey_rename(request: HttpRequest, passkey_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    try:
        passkeys.rename_passkey(user, passkey_id, request.POST.get("name", ""))
    except passkeys.PasskeyNotFound:
        return _not_found(request)
    except ValueError as error:
        messages.error(request, str(error))
        return redirect("accounts:passkeys")
    messages.success(request, "Passkey renamed.")
    return redirect("accounts:passkeys")


@require_POST
@verified_required
def passkey_remove(request: HttpRequest, passkey_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    session_device = getattr(request.user, "otp_device", None)
    try:
        passkeys.remove_passkey(user, passkey_id)
    except passkeys.PasskeyNotFound:
        return _not_found(request)
    if isinstance(session_device, passkeys.WebAuthnCredential) and session_device.pk == passkey_id:
        # This session was verified with that passkey: it has to prove the second factor again.
        messages.success(
            request,
            "Passkey removed. You logged in with it, so enter a code from your authenticator app to go on.",
        )
    else:
        messages.success(request, "Passkey removed. It can no longer be used to log in.")
    return redirect("accounts:passkeys")


def _not_found(request: HttpRequest) -> HttpResponse:
    raise Http404("That passkey is not on your account.")
