"""The admin site's own log-in form cannot be used to dodge the lock-out or the second factor."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_the_admin_login_sends_people_to_the_account_login(client: Client) -> None:
    response = client.get("/admin/login/?next=/admin/portraits/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/admin/portraits/")


def test_posting_a_password_to_the_admin_login_logs_nobody_in(client: Client) -> None:
    User.objects.create_superuser(username="root", email="root@example.com", password="a-long-password-123")
    response = client.post("/admin/login/", {"username": "root", "password": "a-long-password-123"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_a_staff_member_without_a_second_factor_cannot_open_the_admin(client: Client) -> None:
    user = User.objects.create_superuser(
        username="staff", email="staff@example.com", password="a-long-password-123"
    )
    client.force_login(user)
    response = client.get("/admin/", follow=True)
    final_url, _ = response.redirect_chain[-1]
    assert final_url.startswith("/accounts/login/")
    assert b"site administration" not in response.content.lower()


def test_an_unverified_account_cannot_create_an_organisation(client: Client) -> None:
    from accounts.models import Organisation

    user = User.objects.create_user(username="new", email="new@example.com", password="a-long-password-123")
    client.force_login(user)
    response = client.post("/accounts/orgs/new/", {"name": "Acme"})
    assert response.status_code == 302 and response["Location"] == "/accounts/verify-again/"
    assert not Organisation.objects.exists()
