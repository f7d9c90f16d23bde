"""Sign-up with email verification, log-in, lock-out, log-out and password reset."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.contrib.auth.hashers import identify_hasher
from django.core import mail
from django.urls import reverse

from accounts.models import User
from accounts.tests.conftest import PASSWORD, first_alternative, make_user
from compliance.models import AuditEvent

# Account mails are sent by the worker (in-process here).
pytestmark = pytest.mark.usefixtures("eager_celery")


def _link(message, pattern: str) -> str:
    text_match = re.search(pattern, message.body)
    html = message.alternatives[0][0]
    assert message.alternatives[0][1] == "text/html"
    assert text_match is not None
    assert text_match.group(0).replace("http://127.0.0.1:8000", "") in html or text_match.group(0) in html
    return text_match.group(0).replace("http://127.0.0.1:8000", "")


def test_sign_up_hashes_with_argon2_and_emails_a_verification_link(
    client, django_capture_on_commit_callbacks, db
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:signup"),
            {"first_name": "Sam", "email": "Sam@Example.com", "password": PASSWORD},
        )
    assert response.status_code == 302
    user = User.objects.get(email="sam@example.com")
    assert identify_hasher(user.password).algorithm == "argon2"
    assert user.email_verified_at is None
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["sam@example.com"]
    assert "Verify" in message.subject
    link = _link(message, r"http://\S+/accounts/verify/\S+/")
    assert "Verify my email address" in first_alternative(message)

    response = client.get(link)
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email_verified_at is not None


def test_verification_link_expires(client, django_capture_on_commit_callbacks, db):
    with time_machine.travel("2026-01-01 12:00Z", tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("accounts:signup"), {"email": "late@example.com", "password": PASSWORD})
        link = _link(mail.outbox[0], r"http://\S+/accounts/verify/\S+/")
    with time_machine.travel("2026-01-05 12:00Z", tick=False):
        response = client.get(link)
    assert response.status_code == 400
    assert User.objects.get(email="late@example.com").email_verified_at is None


def test_sign_up_refuses_a_weak_password_without_saying_the_email_is_taken(client, db):
    make_user("taken@example.com")
    response = client.post(reverse("accounts:signup"), {"email": "taken@example.com", "password": "password"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "An account with this email exists" not in content
    assert "too common" in content or "too short" in content
    assert User.objects.filter(email="taken@example.com").count() == 1


def test_it_logs_in_and_out(client, db):
    user = make_user("pat@example.com")
    response = client.post(reverse("accounts:login"), {"email": "PAT@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("accounts:home")).status_code == 200
    assert AuditEvent.objects.filter(action="account.login", object_id=str(user.pk)).exists()
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get(reverse("accounts:home")).status_code == 302


def test_wrong_password_is_refused_and_audited_without_the_email(client, db):
    user = make_user("pat@example.com")
    response = client.post(
        reverse("accounts:login"), {"email": "pat@example.com", "password": "nope nope nope"}
    )
    assert response.status_code == 400
    assert "do not match" in response.content.decode()
    event = AuditEvent.objects.get(action="account.login_failed")
    assert event.object_id == str(user.pk)
    assert "pat@example.com" not in str(event.data) + event.actor


def test_it_locks_the_account_after_repeated_failures_then_unlocks(client, db, settings):
    make_user("pat@example.com")
    settings.ACCOUNTS_LOGIN_MAX_FAILURES = 3
    with time_machine.travel("2026-02-01 09:00Z", tick=False):
        for _ in range(3):
            client.post(
                reverse("accounts:login"), {"email": "pat@example.com", "password": "wrong wrong wrong"}
            )
        # Even the right password is refused while locked.
        response = client.post(reverse("accounts:login"), {"email": "pat@example.com", "password": PASSWORD})
        assert response.status_code == 429
        assert "locked" in response.content.decode()
    with time_machine.travel("2026-02-01 09:16Z", tick=False):
        response = client.post(reverse("accounts:login"), {"email": "pat@example.com", "password": PASSWORD})
        assert response.status_code == 302


def test_it_rate_limits_many_attempts_from_one_address(client, db, settings):
    settings.ACCOUNTS_LOGIN_ATTEMPTS_PER_IP = 4
    for index in range(4):
        client.post(reverse("accounts:login"), {"email": f"who{index}@example.com", "password": "x" * 12})
    response = client.post(reverse("accounts:login"), {"email": "another@example.com", "password": "x" * 12})
    assert response.status_code == 429


def test_unverified_account_cannot_log_in_again(client, django_capture_on_commit_callbacks, db):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:signup"), {"email": "new@example.com", "password": PASSWORD})
    client.post(reverse("accounts:logout"))
    response = client.post(reverse("accounts:login"), {"email": "new@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert "verify your email" in response.content.decode()


def test_password_reset_by_email(client, db, django_capture_on_commit_callbacks):
    user = make_user("pat@example.com")
    with django_capture_on_commit_callbacks(execute=True):  # the worker sends the link
        response = client.post(reverse("accounts:password_reset"), {"email": "pat@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "Reset" in message.subject
    assert "Choose a new password" in first_alternative(message)
    link = _link(message, r"http://\S+/accounts/password-reset/\S+/\S+/")
    response = client.get(link, follow=True)
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0]
    response = client.post(
        form_url, {"new_password1": "a new long passphrase 7", "new_password2": "a new long passphrase 7"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a new long passphrase 7")


def test_password_reset_for_an_unknown_address_sends_nothing(client, db):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert mail.outbox == []
