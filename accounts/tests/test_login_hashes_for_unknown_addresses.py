"""A log-in for an address with no account runs the password hasher too, so the time an answer
takes does not tell which addresses have accounts."""

from __future__ import annotations

from typing import Any
from unittest import mock

from django.contrib.auth.hashers import Argon2PasswordHasher
from django.test import Client
from django.urls import reverse

from accounts.tests.conftest import make_user


def hasher_runs(email: str) -> int:
    """How many times the log-in ran Argon2, to hash or to check a password."""
    runs = 0
    original_encode, original_verify = Argon2PasswordHasher.encode, Argon2PasswordHasher.verify

    def encode(hasher: Argon2PasswordHasher, *args: Any, **kwargs: Any) -> str:
        nonlocal runs
        runs += 1
        return original_encode(hasher, *args, **kwargs)

    def verify(hasher: Argon2PasswordHasher, *args: Any, **kwargs: Any) -> bool:
        nonlocal runs
        runs += 1
        return original_verify(hasher, *args, **kwargs)

    with (
        mock.patch.object(Argon2PasswordHasher, "encode", encode),
        mock.patch.object(Argon2PasswordHasher, "verify", verify),
    ):
        response = Client().post(reverse("accounts:login"), {"email": email, "password": "not the password"})
    assert response.status_code == 400
    return runs


def test_it_hashes_once_for_an_unknown_address_as_for_a_wrong_password(db):
    make_user("pat@example.com")

    assert hasher_runs("pat@example.com") == 1
    assert hasher_runs("nobody@example.com") == 1
