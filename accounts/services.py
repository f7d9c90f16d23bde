"""Every write of the accounts app that spans tables or has an outside effect (personal accounts).

Team services (organisations, invitations, the member journey) live in accounts/teams.py.
Audit events carry ids only: never an email address, a name or a code.
"""

from __future__ import annotations

import base64
import io
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from compliance.audit import record_event
from proportrait.addresses import normalise_email
from proportrait.emails import send_email

VERIFY_SALT = "accounts.verify-email"
BACKUP_DEVICE_NAME = "backup"
# Retention a person may choose for their own results, in days; capped by the account policy.
RETENTION_CHOICES_DAYS = (7, 30, 90, 180, 365)


def user_actor(user: Any) -> str:
    return f"user:{user.pk}" if user is not None and getattr(user, "pk", None) else "anonymous"


# --- Finding an account by address


def find_account(email: str, *, active_only: bool = True) -> User | None:
    """The account whose stored address has the same normalised form (proportrait.addresses).

    Every lookup of a person by address goes through here; mail then goes to `user.email`, the
    stored address, never to the address that was typed.
    """
    key = normalise_email(email)
    if not key:
        return None
    accounts = User.objects.filter(email_key=key)
    if active_only:
        accounts = accounts.filter(is_active=True)
    return accounts.first()


# --- Sign-up and email verification


def sign_up(*, email: str, password: str, first_name: str = "") -> User | None:
    """Create an account (email not yet verified) and send the verification link.

    When the address already has an account, none is created: its owner is emailed instead and
    None is returned. Callers answer both cases alike, so sign-up never tells a visitor which
    addresses have accounts.
    """
    email = email.strip().lower()
    user = User(username=email, email=email, first_name=first_name.strip()[:150])
    # Argon2 (PASSWORD_HASHERS); hashed in both cases, so that both take as long.
    user.set_password(password)
    if find_account(email, active_only=False) is not None:
        notify_sign_up_for_existing_account(email)
        return None
    try:
        with transaction.atomic():
            user.save()
            record_event(
                "account.created", actor=user_actor(user), object_type="user", object_id=str(user.pk)
            )
            send_verification_email(user)
    except IntegrityError:  # the same address signed up at the same moment
        notify_sign_up_for_existing_account(email)
        return None
    return user


def notify_sign_up_for_existing_account(email: str) -> None:
    """Tell an account's owner that someone tried to sign up with their address."""
    owner = find_account(email)
    if owner is None:
        return
    send_from_worker(
        "account-exists",
        [owner.email],
        {
            "first_name": owner.first_name,
            "login_link": settings.SITE_URL + reverse("accounts:login"),
            "reset_link": settings.SITE_URL + reverse("accounts:password_reset"),
        },
    )
    record_event(
        "account.sign_up_for_existing", actor="anonymous", object_type="user", object_id=str(owner.pk)
    )


def _email_digest(email: str) -> str:
    # The link names the account by id and the address by a keyed digest: the address itself
    # must not land in server logs or browser history, yet a link must die once it changes.
    return salted_hmac(VERIFY_SALT, email.strip().lower(), algorithm="sha256").hexdigest()[:20]


def verification_token(user: User) -> str:
    return signing.TimestampSigner(salt=VERIFY_SALT).sign(f"{user.pk}:{_email_digest(user.email)}")


def send_verification_email(user: User) -> None:
    link = settings.SITE_URL + reverse("accounts:verify_email", args=[verification_token(user)])
    send_from_worker(
        "account-verify",
        [user.email],
        {"link": link, "days": settings.ACCOUNTS_EMAIL_VERIFICATION_DAYS, "first_name": user.first_name},
    )


def send_from_worker(name: str, to: list[str], context: dict[str, Any]) -> None:
    """Queue a sign-up mail for the worker once the surrounding transaction commits."""
    from accounts import tasks

    transaction.on_commit(lambda: tasks.send_account_email.delay(name, list(to), context))


def verify_email(token: str) -> User | None:
    """Mark the address verified if the link is genuine, fresh and still matches the account's email."""
    try:
        value = signing.TimestampSigner(salt=VERIFY_SALT).unsign(
            token, max_age=timedelta(days=settings.ACCOUNTS_EMAIL_VERIFICATION_DAYS)
        )
    except signing.BadSignature:
        return None
    user_id, _, digest = value.partition(":")
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id.isdigit() else None
    if user is None or not constant_time_compare(digest, _email_digest(user.email)):
        return None
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
        record_event(
            "account.email_verified", actor=user_actor(user), object_type="user", object_id=str(user.pk)
        )
    return user


class ProPortraitPasswordResetForm(PasswordResetForm):
    """Django's reset form, sending through the project's one email module (text + HTML).

    The account is found by its normalised address (find_account), not Django's database
    case-insensitive match, and the link goes to the account's stored address."""

    def get_users(self, email: str) -> Any:
        user = find_account(email)
        if user is not None and user.has_usable_password():
            yield user

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The look-up and the mail happen in the worker (send_password_reset_mail): the answer
        # takes the same time and leaves the same state for any address.
        from accounts import tasks

        email = str(self.cleaned_data["email"])
        transaction.on_commit(lambda: tasks.send_password_reset.delay(email))

    def send_mail(  # type: ignore[override]
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        user = context["user"]
        link = settings.SITE_URL + reverse(
            "accounts:password_reset_confirm",
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": default_token_generator.make_token(user),
            },
        )
        send_email(
            "account-password-reset",
            [to_email],
            {"link": link, "hours": settings.PASSWORD_RESET_TIMEOUT // 3600},
            on_commit=False,
        )
        record_event(
            "account.password_reset_sent", actor="anonymous", object_type="user", object_id=str(user.pk)
        )


def send_password_reset_mail(email: str) -> int:
    """Worker side of a reset request: e-mail the reset link to the stored address of the account
    the typed address normalises to, if any. Returns how many mails were sent (0 or 1)."""
    form = ProPortraitPasswordResetForm()
    sent = 0
    for user in form.get_users(email):
        form.send_mail("", "", {"user": user}, None, user.email)
        sent += 1
    return sent


# --- Log-in events (counts and ids only)


def record_login(user: User, *, second_factor: bool) -> None:
    record_event(
        "account.login",
        actor=user_actor(user),
        object_type="user",
        object_id=str(user.pk),
        data={"second_factor": second_factor},
    )


def record_login_failure(user: User | None, *, stage: str, failures: int, locked: bool) -> None:
    # Unknown addresses are counted under no id at all: the log must not hold what was typed.
    record_event(
        "account.login_failed",
        actor="anonymous",
        object_type="user",
        object_id=str(user.pk) if user else "",
        data={"stage": stage, "failures": failures, "locked": locked},
    )


# --- Two-factor authentication (django-otp)


def has_two_factor(user: Any) -> bool:
    from accounts.passkeys import has_passkey

    return bool(
        user.is_authenticated
        and (TOTPDevice.objects.filter(user=user, confirmed=True).exists() or has_passkey(user))
    )


def needs_two_factor(user: Any) -> bool:
    """Staff and organisation owners/admins must use 2FA before admin features."""
    from accounts.models import Membership, Role

    if not user.is_authenticated:
        return False
    return bool(
        user.is_staff or Membership.objects.filter(user=user, role__in=[Role.OWNER, Role.ADMIN]).exists()
    )


def start_totp_enrolment(user: User) -> TOTPDevice:
    """An unconfirmed authenticator device; it counts only once a code from it is confirmed."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def totp_qr_data_uri(device: TOTPDevice) -> str:
    """The enrolment QR code as an inline SVG data URI (no outside service; CSP allows data: images)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def totp_secret_base32(device: TOTPDevice) -> str:
    """The shared secret for typing into an app by hand."""
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def confirm_totp_enrolment(device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the device with a code from the app; returns fresh backup codes, or None if wrong."""
    if device.confirmed or not device.verify_token(code.strip().replace(" ", "")):
        return None
    with transaction.atomic():
        # One authenticator per account: enrolling again replaces the old one.
        TOTPDevice.objects.filter(user=device.user, confirmed=True).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = regenerate_backup_codes(device.user)
        record_event(
            "account.2fa_enrolled",
            actor=user_actor(device.user),
            object_type="user",
            object_id=str(device.user_id),
        )
    return codes


def end_other_sessions(user: User, *, keep_session_key: str | None) -> int:
    """Sign the account out of every browser but the one whose session is kept; returns how many.

    After the second factor changes, a session that signed in before (perhaps with a stolen
    password) must not live on. Sessions are stored in the database (the default engine).
    """
    user_id = str(user.pk)
    stale = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).exclude(
            session_key=keep_session_key or ""
        )
        if session.get_decoded().get(SESSION_KEY) == user_id
    ]
    Session.objects.filter(pk__in=stale).delete()
    return len(stale)


def regenerate_backup_codes(user: User) -> list[str]:
    """Replace every backup code; each one works once. Returned once, never stored in clear."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(settings.ACCOUNTS_BACKUP_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    record_event(
        "account.backup_codes_generated", actor=user_actor(user), object_type="user", object_id=str(user.pk)
    )
    return codes


def verify_second_factor(user: User, code: str) -> TOTPDevice | StaticDevice | None:
    """The device that accepts this code (authenticator first, then a single-use backup code)."""
    code = (code or "").strip().replace(" ", "").lower()
    if not code:
        return None
    for totp in TOTPDevice.objects.filter(user=user, confirmed=True):
        if code.isdigit() and totp.verify_token(code):
            return totp
    for static in StaticDevice.objects.filter(user=user, confirmed=True):
        if static.verify_token(code):  # deletes the used code
            record_event(
                "account.backup_code_used", actor=user_actor(user), object_type="user", object_id=str(user.pk)
            )
            return static
    return None


def disable_two_factor(user: User) -> None:
    from accounts.passkeys import remove_all_passkeys

    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        remove_all_passkeys(user)
        record_event(
            "account.2fa_disabled", actor=user_actor(user), object_type="user", object_id=str(user.pk)
        )


# --- Claiming anonymous results, and the person's own jobs


def claim_job(job: Any, user: User) -> bool:
    """Move an anonymous job's results into the account; its expiry becomes the account retention.

    The original photo was destroyed when the job ended; only the generated portraits move.
    The filtered update claims safely: a job that already has an owner is never taken over.
    The anonymous bearer token stops working: its hash is replaced by that of a random value
    nobody keeps, so from now on only the owner's log-in reaches the job.
    """
    from portraits.models import JobStatus, PortraitJob
    from portraits.services import account_retention, hash_token

    with transaction.atomic():
        changed = (
            PortraitJob.objects.filter(pk=job.pk, owner__isnull=True)
            .exclude(status=JobStatus.DELETED)
            .update(
                owner=user,
                expires_at=timezone.now() + account_retention(),
                token_hash=hash_token(secrets.token_urlsafe(32)),
            )
        )
        if changed != 1:
            return False
        record_event("job.claimed", actor=user_actor(user), object_type="portrait_job", object_id=str(job.pk))
    return True


def claimable_session_jobs(session_job_ids: list[str]) -> list[Any]:
    from portraits.models import JobStatus, PortraitJob

    return list(
        PortraitJob.objects.filter(id__in=session_job_ids, owner__isnull=True)
        .exclude(status=JobStatus.DELETED)
        .order_by("-created_at")
    )


def personal_jobs(user: User) -> Any:
    """The account's own jobs, not those made for an organisation (those follow its policy)."""
    from portraits.models import JobStatus, PortraitJob

    return (
        PortraitJob.objects.filter(owner=user, team_submission__isnull=True)
        .exclude(status=JobStatus.DELETED)
        .prefetch_related("portraits")
        .order_by("-created_at")
    )


def retention_choices_days() -> list[int]:
    cap = settings.PROPORTRAIT_ACCOUNT_RETENTION_DAYS
    return [days for days in RETENTION_CHOICES_DAYS if days <= cap] or [cap]


def set_job_retention(job: Any, user: User, days: int) -> None:
    """Keep a job's results for `days` from its creation, within the account policy."""
    if days not in retention_choices_days():
        raise ValueError("Choose one of the offered retention periods.")
    new_expiry = max(job.created_at + timedelta(days=days), timezone.now() + timedelta(minutes=5))
    with transaction.atomic():
        type(job).objects.filter(pk=job.pk, owner=user).update(expires_at=new_expiry)
        record_event(
            "job.retention_changed",
            actor=user_actor(user),
            object_type="portrait_job",
            object_id=str(job.pk),
            data={"days": days},
        )


def delete_job(job: Any, user: User) -> None:
    from portraits.services import erase_job

    erase_job(job, reason="owner_request", actor=user_actor(user))


def export_my_data(user: User) -> bytes:
    """The compliance export (JSON + files in a ZIP) for this account holder."""
    from compliance.services import Subject, export_subject_data

    record_event("account.data_exported", actor=user_actor(user), object_type="user", object_id=str(user.pk))
    return export_subject_data(Subject(user_id=user.pk, email=user.email))


@dataclass(frozen=True)
class AccountDeleted:
    certificate: Any
    email: str


def delete_account(user: User) -> AccountDeleted:
    """Immediate erasure through the compliance cascade, then the user row goes; certificate by email.

    Owning the only owner seat of an organisation blocks deletion: the organisation would be left
    without anyone able to manage or delete it (teams.sole_owned_organisations).
    """
    from accounts.teams import sole_owned_organisations
    from compliance.services import Subject, erase_subject

    if sole_owned_organisations(user):
        raise ValueError("Transfer ownership of, or delete, the organisations you own first.")
    email = user.email
    user_id = user.pk
    certificate = erase_subject(
        Subject(user_id=user_id, email=email), reason="account_deletion", actor=f"user:{user_id}"
    )
    with transaction.atomic():
        User.objects.filter(pk=user_id).delete()
        record_event("account.deleted", actor=f"user:{user_id}", object_type="user", object_id=str(user_id))
    send_email("account-deleted", [email], {"certificate": certificate}, on_commit=False)
    return AccountDeleted(certificate=certificate, email=email)


def anonymise_user(user_id: int) -> int:
    """Leave no personal data in the user row (used by the eraser before the row is deleted)."""
    placeholder = f"erased-{user_id}-{secrets.token_hex(4)}"
    return User.objects.filter(pk=user_id).update(
        username=placeholder,
        email=f"{placeholder}@erased.invalid",
        email_key=normalise_email(f"{placeholder}@erased.invalid"),
        first_name="",
        last_name="",
        password=make_password(None),  # unusable: no password can match
        is_active=False,
    )
