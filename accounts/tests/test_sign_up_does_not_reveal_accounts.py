"""Sign-up answers alike whether or not an address has an account; the owner is told by email."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.tests.conftest import PASSWORD, first_alternative, make_user, password_hash
from compliance.models import AuditEvent

# Account mails are sent by the worker (in-process here).
pytestmark = pytest.mark.usefixtures("eager_celery")


def sign_up(email: str, django_capture_on_commit_callbacks) -> tuple[int, str, list[str]]:
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:signup"), {"email": email, "password": PASSWORD + "!"})
    notes = [str(message) for message in get_messages(response.wsgi_request)]
    return response.status_code, response.get("Location", ""), notes


def test_it_answers_a_known_address_as_it_answers_a_new_one(django_capture_on_commit_callbacks, db):
    make_user("taken@example.com")

    known = sign_up("Taken@Example.com", django_capture_on_commit_callbacks)
    unknown = sign_up("fresh@example.com", django_capture_on_commit_callbacks)

    assert known == unknown
    assert known[0] == 302
    assert "Check your email" in known[2][0]


def test_it_emails_the_owner_and_creates_no_second_account(django_capture_on_commit_callbacks, db):
    owner = make_user("taken@example.com", first_name="Tara")

    sign_up("taken@example.com", django_capture_on_commit_callbacks)

    assert User.objects.filter(email__iexact="taken@example.com").count() == 1
    owner.refresh_from_db()
    assert owner.password == password_hash()  # the typed password did not replace the owner's
    (message,) = mail.outbox
    assert message.to == ["taken@example.com"]
    assert "already have" in message.subject
    assert "Tara" in message.body
    assert "/accounts/login/" in message.body
    assert "/accounts/password-reset/" in message.body
    assert "/accounts/verify/" not in message.body
    html = first_alternative(message)
    assert "/accounts/login/" in html and "/accounts/password-reset/" in html
    event = AuditEvent.objects.get(action="account.sign_up_for_existing")
    assert event.object_id == str(owner.pk)
    assert "taken@example.com" not in str(event.data) + event.actor


def test_it_does_not_sign_the_visitor_in_to_the_existing_account(django_capture_on_commit_callbacks, db):
    make_user("taken@example.com")
    client = Client()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:signup"), {"email": "taken@example.com", "password": PASSWORD + "!"})

    assert client.get(reverse("accounts:home")).status_code == 302
