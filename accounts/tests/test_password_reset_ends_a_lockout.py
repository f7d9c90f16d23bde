"""A completed password reset proves the mailbox, so it ends a lock-out at once."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client, TestCase
from django.urls import reverse

from accounts.tests.conftest import PASSWORD, make_user

# Account mails are sent by the worker (in-process here).
pytestmark = pytest.mark.usefixtures("eager_celery")

NEW_PASSWORD = "a new long passphrase 7"


def log_in(client: Client, password: str) -> int:
    response = client.post(reverse("accounts:login"), {"email": "pat@example.com", "password": password})
    return response.status_code


def reset_password(client: Client) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):  # the worker sends the link
        client.post(reverse("accounts:password_reset"), {"email": "pat@example.com"})
    match = re.search(r"http://\S+(/accounts/password-reset/\S+/\S+/)", str(mail.outbox[-1].body))
    assert match is not None
    response = client.get(match.group(1), follow=True)
    form_url = response.redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302


def test_it_unlocks_the_account_when_the_password_is_reset(db, settings):
    settings.ACCOUNTS_LOGIN_MAX_FAILURES = 3
    make_user("pat@example.com")
    client = Client()
    for _ in range(3):
        log_in(client, "wrong wrong wrong")
    assert log_in(client, PASSWORD) == 429

    reset_password(Client())

    assert log_in(client, NEW_PASSWORD) == 302
    assert client.get(reverse("accounts:home")).status_code == 200
