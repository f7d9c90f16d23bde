"""The email verification link names the account without its address, and dies when the address
changes."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from accounts.tests.conftest import PASSWORD, first_alternative

# Account mails are sent by the worker (in-process here).
pytestmark = pytest.mark.usefixtures("eager_celery")


def sign_up_and_read_link(client, django_capture_on_commit_callbacks) -> str:
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:signup"), {"email": "sam.smith@example.com", "password": PASSWORD})
    (message,) = mail.outbox
    (path,) = [word for word in message.body.split() if "/accounts/verify/" in word]
    assert path in first_alternative(message)
    return path.replace("http://127.0.0.1:8000", "")


def test_it_keeps_the_address_out_of_the_link(client, django_capture_on_commit_callbacks, db):
    link = sign_up_and_read_link(client, django_capture_on_commit_callbacks)

    assert "@" not in link
    assert "%40" not in link
    assert "sam.smith" not in link
    assert "example.com" not in link

    assert client.get(link).status_code == 302
    assert User.objects.get(email="sam.smith@example.com").email_verified_at is not None


def test_it_refuses_a_link_for_an_address_since_changed(client, django_capture_on_commit_callbacks, db):
    link = sign_up_and_read_link(client, django_capture_on_commit_callbacks)
    User.objects.filter(email="sam.smith@example.com").update(email="someone.else@example.com")

    response = client.get(link)

    assert response.status_code == 400
    assert User.objects.get(email="someone.else@example.com").email_verified_at is None
