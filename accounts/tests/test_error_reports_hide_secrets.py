"""Passwords, codes, tokens and addresses typed into account forms never appear in a DEBUG page
or an error report: the views mark them sensitive."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.views.debug import SafeExceptionReporterFilter

from accounts.models import User
from accounts.tests.conftest import logged_in_client, make_user, verified_client

# Account mails are sent by the worker (in-process here).
pytestmark = pytest.mark.usefixtures("eager_celery")

CLEANSED = SafeExceptionReporterFilter.cleansed_substitute


def reported_post(response) -> dict[str, str]:
    """The POST data as Django's error reports would show it for this request."""
    # A QueryDict: items() gives each field's last value, as the report shows it.
    return dict(SafeExceptionReporterFilter().get_post_parameters(response.wsgi_request).items())


@pytest.mark.parametrize(
    ("url_name", "data", "hidden"),
    [
        (
            "accounts:login",
            {"email": "pat@example.com", "password": "hunter2 hunter2"},
            {"email", "password"},
        ),
        (
            "accounts:signup",
            {"first_name": "Pat", "email": "new@example.com", "password": "x"},
            {"first_name", "email", "password"},
        ),
        ("accounts:otp_verify", {"code": "123456"}, {"code"}),
        ("accounts:password_reset", {"email": "pat@example.com"}, {"email"}),
    ],
)
def test_it_hides_what_a_visitor_types(db, url_name, data, hidden):
    make_user("pat@example.com")

    posted = reported_post(Client().post(reverse(url_name), data))

    assert {name for name, value in posted.items() if value == CLEANSED} == hidden


def test_it_hides_the_new_password_on_the_reset_form(db):
    response = Client().post(
        reverse("accounts:password_reset_confirm", args=["MQ", "set-password"]),
        {"new_password1": "a new long passphrase 7", "new_password2": "a new long passphrase 7"},
    )

    posted = reported_post(response)
    assert posted["new_password1"] == CLEANSED
    assert posted["new_password2"] == CLEANSED


@pytest.mark.parametrize(
    ("url_name", "data", "hidden"),
    [
        ("accounts:two_factor", {"action": "confirm", "code": "123456"}, "code"),
        ("accounts:delete", {"password": "not my password"}, "password"),
        (
            "accounts:claim",
            {"action": "token", "job_id": "7b0e8c39-4f60-4c84-9d6b-2a8e4f1c0a11", "token": "secret"},
            "token",
        ),
    ],
)
def test_it_hides_what_a_signed_in_person_types(db, url_name, data, hidden):
    client = logged_in_client(make_user("pat@example.com"))

    posted = reported_post(client.post(reverse(url_name), data))

    assert posted[hidden] == CLEANSED
    # Only the secret is hidden; the rest still helps whoever reads the report.
    assert {name: value for name, value in posted.items() if name != hidden} == {
        name: value for name, value in data.items() if name != hidden
    }


def test_it_hides_the_password_that_confirms_deleting_an_organisation(team):
    response = verified_client(team.owner).post(
        reverse("accounts:org_delete", args=[team.organisation.slug]), {"password": "not my password"}
    )

    assert response.status_code == 400
    assert reported_post(response)["password"] == CLEANSED
    assert User.objects.filter(pk=team.owner.pk).exists()
