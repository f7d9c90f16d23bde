"""Passkeys (WebAuthn, through django-otp-webauthn) as a second factor beside the authenticator app.

A passkey is bound to this site's relying-party id (SITE_URL's host) and only SITE_URL's origin
may use it, so a look-alike site cannot relay it: phishing-resistant. It is never a first
factor (passwordless log-in is off), and it can only be added from a session that has already
passed a second factor, so the authenticator app and the backup codes stay as the way back in.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django_otp_webauthn.models import WebAuthnCredential

from accounts.models import User
from compliance.audit import record_event

MAX_NAME_LENGTH = 64


class PasskeyNotFound(Exception):
    """No passkey with that id belongs to this account."""


def user_passkeys(user: User) -> Any:
    """The account's confirmed passkeys, newest first."""
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("-created_at")


def has_passkey(user: Any) -> bool:
    return bool(user.is_authenticated and user_passkeys(user).exists())


def record_passkey_added(user: User, credential: WebAuthnCredential) -> None:
    """Audit a passkey the registration ceremony has just saved (ids only, no key material)."""
    record_event(
        "account.passkey_added",
        actor=f"user:{user.pk}",
        object_type="user",
        object_id=str(user.pk),
        data={"passkey": credential.pk, "aaguid": credential.aaguid or ""},
    )


def rename_passkey(user: User, passkey_id: int, name: str) -> WebAuthnCredential:
    """Give one of the account's passkeys a name the person recognises. Raises PasskeyNotFound."""
    name = " ".join(name.split())[:MAX_NAME_LENGTH]
    if not name:
        raise ValueError("Give the passkey a name.")
    credential = user_passkeys(user).filter(pk=passkey_id).first()
    if credential is None:
        raise PasskeyNotFound()
    credential.name = name
    credential.save(update_fields=["name"])
    return credential


def remove_passkey(user: User, passkey_id: int) -> None:
    """Delete one of the account's passkeys; it can never sign in again. Raises PasskeyNotFound."""
    with transaction.atomic():
        deleted, _ = WebAuthnCredential.objects.filter(user=user, pk=passkey_id).delete()
        if not deleted:
            raise PasskeyNotFound()
        record_event(
            "account.passkey_removed",
            actor=f"user:{user.pk}",
            object_type="user",
            object_id=str(user.pk),
            data={"passkey": passkey_id},
        )


def remove_all_passkeys(user: User) -> int:
    """Delete every passkey of the account (two-factor turned off); returns how many."""
    deleted, _ = WebAuthnCredential.objects.filter(user=user).delete()
    return int(deleted)
