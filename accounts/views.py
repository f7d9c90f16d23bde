"""Personal account pages: sign-up, log-in with lock-out and 2FA, claim, the account page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import security, services
from accounts.forms import ClaimForm, CodeForm, LoginForm, PasswordConfirmForm, RetentionForm, SignUpForm
from accounts.models import Membership, User
from accounts.passkeys import has_passkey
from proportrait.http import client_ip

PENDING_USER_KEY = "accounts_pending_user"
PENDING_NEXT_KEY = "accounts_pending_next"
BACKEND = "django.contrib.auth.backends.ModelBackend"


def _safe_next(request: HttpRequest, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(candidate, {request.get_host()}, request.is_secure()):
        return candidate
    return default


def verified_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Log-in plus a second factor in this session; people without one are sent to set it up."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect(f"{reverse('accounts:login')}?next={request.get_full_path()}")
        if not request.user.is_verified():  # type: ignore[attr-defined]  # added by django_otp's middleware
            target = "accounts:otp_verify" if services.has_two_factor(request.user) else "accounts:two_factor"
            messages.info(request, "Admin features need two-factor authentication.")
            return redirect(f"{reverse(target)}?next={request.get_full_path()}")
        return view(request, *args, **kwargs)

    return wrapper


# --- Sign-up and verification


@sensitive_post_parameters("password", "email", "first_name")
@never_cache
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:home")
    invited = request.session.get("invited_email", "")  # set by the invitation page
    form = SignUpForm(request.POST or None, initial={"email": invited} if invited else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            security.check_visitor_mail("signup", form.cleaned_data["email"], client_ip(request))
        except security.MailLimited as limited:
            form.add_error(None, limited.message)
            return render(
                request, "accounts/signup.html", {"form": form, "next": _safe_next(request, "")}, status=429
            )
        services.sign_up(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password"],
            first_name=form.cleaned_data["first_name"],
        )
        # The same answer, and the same state (no session), whether or not the address already
        # has an account (its owner is e-mailed instead): sign-up does not reveal who has one.
        # The new account signs in once its address is verified; this browser's results stay
        # claimable in its session meanwhile.
        messages.success(
            request, "Check your email: we sent a message to that address. Then log in to continue."
        )
        next_url = _safe_next(request, "")
        login_url = reverse("accounts:login")
        return redirect(f"{login_url}?{urlencode({'next': next_url})}" if next_url else login_url)
    return render(
        request, "accounts/signup.html", {"form": form, "next": _safe_next(request, "")}, status=status
    )


def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    user = services.verify_email(token)
    if user is None:
        return render(request, "accounts/verify_failed.html", status=400)
    messages.success(request, "Your email address is verified.")
    return redirect("accounts:home" if request.user.is_authenticated else "accounts:login")


@login_required
@require_POST
def resend_verification(request: HttpRequest) -> HttpResponse:
    if request.user.email_verified_at is None:  # type: ignore[union-attr]
        services.send_verification_email(request.user)  # type: ignore[arg-type]
    messages.success(request, "We sent a new verification link.")
    return redirect("accounts:home")


# --- Log-in, second factor, log-out


@sensitive_post_parameters("password", "email")
@never_cache
def login(request: HttpRequest) -> HttpResponse:
    invited = request.session.get("invited_email", "")  # set by the invitation page
    form = LoginForm(request.POST or None, initial={"email": invited} if invited else None)
    next_url = _safe_next(request, reverse(settings.LOGIN_REDIRECT_URL))
    error = ""
    status = 200
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        gate = security.check_login_allowed(email, client_ip(request))
        if not gate.allowed:
            error = (
                f"Too many failed attempts. This account is locked for {settings.ACCOUNTS_LOCKOUT_MINUTES} "
                "minutes; you can reset your password meanwhile."
                if gate.reason == "locked"
                else "Too many attempts from your connection. Please wait a few minutes."
            )
            status = 429
        else:
            user = services.find_account(email)
            if user is None:
                # Hash once anyway, so that an unknown address takes as long as a wrong password.
                User().set_password(form.cleaned_data["password"])
            if user is None or not user.check_password(form.cleaned_data["password"]):
                failures = security.register_login_failure(email)
                services.record_login_failure(
                    user, stage="password", failures=failures, locked=security.is_locked(email)
                )
                error = "That email and password do not match. Check both and try again."
                status = 400
            elif user.email_verified_at is None:
                # Sign-up signs nobody in (it must not reveal whether the address had an account),
                # so the first log-in, like every later one, needs the verified address.
                error = "Please verify your email address first: use the link we emailed you."
                status = 400
            elif services.has_two_factor(user):
                request.session.cycle_key()
                request.session[PENDING_USER_KEY] = user.pk
                request.session[PENDING_NEXT_KEY] = next_url
                return redirect("accounts:otp_verify")
            else:
                security.clear_login_failures(email)
                auth_login(request, user, backend=BACKEND)
                services.record_login(user, second_factor=False)
                return redirect(next_url)
    elif request.method == "POST":
        status = 400
    return render(
        request, "accounts/login.html", {"form": form, "error": error, "next": next_url}, status=status
    )


@sensitive_post_parameters("code")
@never_cache
def otp_verify(request: HttpRequest) -> HttpResponse:
    """Second step: a code from the authenticator app or a backup code.

    Serves both a log-in in progress (password checked, user id in the session) and a signed-in
    person who must now prove the second factor for admin features.
    """
    if request.user.is_authenticated:
        user: User | None = request.user  # type: ignore[assignment]
        next_url = _safe_next(request, reverse("accounts:home"))
    else:
        pending = request.session.get(PENDING_USER_KEY)
        user = User.objects.filter(pk=pending, is_active=True).first() if pending else None
        next_url = request.session.get(PENDING_NEXT_KEY) or reverse("accounts:home")
    if user is None:
        return redirect("accounts:login")
    if not services.has_two_factor(user):
        return redirect("accounts:two_factor")
    form = CodeForm(request.POST or None)
    error = ""
    status = 200
    if request.method == "POST" and form.is_valid():
        if security.is_locked(user.email):
            error = f"Too many failed attempts. Try again in {settings.ACCOUNTS_LOCKOUT_MINUTES} minutes."
            status = 429
        else:
            device = services.verify_second_factor(user, form.cleaned_data["code"])
            if device is None:
                failures = security.register_login_failure(user.email)
                services.record_login_failure(
                    user, stage="second_factor", failures=failures, locked=security.is_locked(user.email)
                )
                error = "That code is not right. Codes change every 30 seconds; try the current one."
                status = 400
            else:
                security.clear_login_failures(user.email)
                if not request.user.is_authenticated:
                    auth_login(request, user, backend=BACKEND)
                    services.record_login(user, second_factor=True)
                otp_login(request, device)
                request.session.pop(PENDING_USER_KEY, None)
                request.session.pop(PENDING_NEXT_KEY, None)
                return redirect(next_url)
    elif request.method == "POST":
        status = 400
    context = {
        "form": form,
        "error": error,
        "next": next_url,
        "has_passkey": has_passkey(user) and settings.PROPORTRAIT_PASSKEYS_ENABLED,
    }
    return render(request, "accounts/otp_verify.html", context, status=status)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    messages.success(request, "You are logged out.")
    return redirect(settings.LOGOUT_REDIRECT_URL)


@method_decorator(sensitive_post_parameters("email"), name="dispatch")
class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    success_url = reverse_lazy("accounts:password_reset_done")

    def get_form_class(self) -> Any:
        return services.ProPortraitPasswordResetForm

    def form_valid(self, form: Any) -> HttpResponse:
        try:
            security.check_visitor_mail("reset", form.cleaned_data["email"], client_ip(self.request))
        except security.MailLimited as limited:
            form.add_error(None, limited.message)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    # Django's view already hides every POST field (the new password) from error reports.
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        # A reset proves the mailbox, and ends a lock-out.
        security.clear_login_failures(form.user.email)
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


# --- Two-factor enrolment


@sensitive_post_parameters("code")
@login_required
@never_cache
def two_factor(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app (QR code) and get backup codes; or regenerate/disable."""
    user: User = request.user  # type: ignore[assignment]
    codes: list[str] | None = None
    error = ""
    status = 200
    next_url = _safe_next(request, "")
    device: TOTPDevice | None = None
    # A session that has not passed an enrolled account's second factor (a password alone, perhaps
    # a stolen one) must not see, replace or remove its devices: that would hand over the account.
    if services.has_two_factor(user) and not request.user.is_verified():  # type: ignore[union-attr]
        if request.method == "POST":
            messages.info(request, "Enter a code from your authenticator app to change two-factor settings.")
            return redirect(f"{reverse('accounts:otp_verify')}?{urlencode({'next': request.path})}")
    else:
        device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "start":
            device = services.start_totp_enrolment(user)
        elif action == "confirm" and device is not None:
            form = CodeForm(request.POST)
            codes = services.confirm_totp_enrolment(device, form.data.get("code", ""))
            if codes is None:
                error = "That code is not right. Check the time on your phone and try the current code."
                status = 400
            else:
                device.refresh_from_db()
                otp_login(request, device)
                services.end_other_sessions(user, keep_session_key=request.session.session_key)
                device = None
        elif action == "backup_codes" and request.user.is_verified():  # type: ignore[union-attr]
            codes = services.regenerate_backup_codes(user)
        elif action == "disable" and request.user.is_verified():  # type: ignore[union-attr]
            if services.needs_two_factor(user):
                error = "Staff and organisation admins must keep two-factor authentication on."
                status = 400
            else:
                services.disable_two_factor(user)
                messages.success(request, "Two-factor authentication is off.")
                return redirect("accounts:two_factor")
    context = {
        "enrolled": services.has_two_factor(user),
        "device": device,
        "qr": services.totp_qr_data_uri(device) if device else "",
        "secret": services.totp_secret_base32(device) if device else "",
        "codes": codes,
        "error": error,
        "required": services.needs_two_factor(user),
        "next": next_url,
        "form": CodeForm(),
    }
    return render(request, "accounts/two_factor.html", context, status=status)


# --- Claim anonymous results


def _session_jobs(request: HttpRequest) -> list[str]:
    from portraits.access import session_job_ids

    return session_job_ids(request)


@sensitive_post_parameters("token")
@login_required
@never_cache
def claim(request: HttpRequest) -> HttpResponse:
    from portraits.access import job_for_reference
    from portraits.models import PortraitJob

    user: User = request.user  # type: ignore[assignment]
    form = ClaimForm()
    status = 200
    if request.method == "POST":
        if request.POST.get("action") == "session":
            # Only jobs this browser created (their ids are in its session) can be claimed this way.
            job_id = request.POST.get("job_id", "")
            job = PortraitJob.objects.filter(pk=job_id).first() if job_id in _session_jobs(request) else None
            if job is None or not services.claim_job(job, user):
                raise Http404
            messages.success(request, "The portraits are now in your account.")
            return redirect("accounts:home")
        form = ClaimForm(request.POST)
        if form.is_valid():
            job = job_for_reference(form.cleaned_data["token"])
            if job is not None and services.claim_job(job, user):
                messages.success(request, "The portraits are now in your account.")
                return redirect("accounts:home")
            form.add_error(None, "No job with that reference can be claimed. Check it and try again.")
        status = 400
    jobs = services.claimable_session_jobs(_session_jobs(request))
    return render(request, "accounts/claim.html", {"form": form, "jobs": jobs}, status=status)


# --- The account page


def _own_job(request: HttpRequest, job_id: str) -> Any:
    job = services.personal_jobs(request.user).filter(pk=job_id).first()  # type: ignore[arg-type]
    if job is None:
        raise Http404
    return job


@login_required
@never_cache
def home(request: HttpRequest) -> HttpResponse:
    from portraits.payments.services import full_resolution_unlocked

    user: User = request.user  # type: ignore[assignment]
    jobs = []
    choices = services.retention_choices_days()
    for job in services.personal_jobs(user):
        # Session-authorised links (the owner's): they keep working however long the page is open.
        # With payments on, full resolution is linked only once bought (the job page sells it).
        unlocked = full_resolution_unlocked(job)
        portraits = [
            {
                "portrait": portrait,
                "preview_url": reverse("portraits:portrait", args=[job.id, portrait.variant + 1, "preview"]),
                "download_url": (
                    reverse("portraits:portrait", args=[job.id, portrait.variant + 1, "full"])
                    if unlocked
                    else ""
                ),
            }
            for portrait in job.portraits.all()
        ]
        kept_days = round((job.expires_at - job.created_at).total_seconds() / 86400)
        # The saved period, or the offered one nearest to it (a claimed job may sit between two).
        selected_days = min(choices, key=lambda days: abs(days - kept_days))
        jobs.append({"job": job, "portraits": portraits, "selected_days": selected_days})
    memberships = Membership.objects.filter(user=user).select_related("organisation")
    context = {
        "jobs": jobs,
        "memberships": memberships,
        "retention_form": RetentionForm(choices_days=services.retention_choices_days()),
        "two_factor": services.has_two_factor(user),
        "needs_two_factor": services.needs_two_factor(user),
        "claimable": services.claimable_session_jobs(_session_jobs(request)),
        "delete_form": PasswordConfirmForm(),
    }
    return render(request, "accounts/home.html", context)


@login_required
@require_POST
def job_retention(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _own_job(request, job_id)
    form = RetentionForm(request.POST, choices_days=services.retention_choices_days())
    if not form.is_valid():
        messages.error(request, "Choose one of the offered retention periods.")
        return redirect("accounts:home")
    services.set_job_retention(job, request.user, form.cleaned_data["days"])  # type: ignore[arg-type]
    messages.success(request, "Retention updated.")
    return redirect("accounts:home")


@login_required
@require_POST
def job_delete(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _own_job(request, job_id)
    services.delete_job(job, request.user)  # type: ignore[arg-type]
    messages.success(request, "Those portraits are deleted, with their encryption keys.")
    return redirect("accounts:home")


@login_required
@require_POST
def export_data(request: HttpRequest) -> HttpResponse:
    data = services.export_my_data(request.user)  # type: ignore[arg-type]
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="proportrait-my-data.zip"'
    response["Cache-Control"] = "private, no-store"
    return response


@sensitive_post_parameters("password")
@login_required
@never_cache
def delete_account(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = PasswordConfirmForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid() and user.check_password(form.cleaned_data["password"]):
            try:
                result = services.delete_account(user)
            except ValueError as error:
                form.add_error(None, str(error))
                status = 400
            else:
                auth_logout(request)
                return render(request, "accounts/deleted.html", {"certificate": result.certificate})
        else:
            form.add_error("password", "That password is not right.")
            status = 400
    return render(request, "accounts/delete_account.html", {"form": form}, status=status)
