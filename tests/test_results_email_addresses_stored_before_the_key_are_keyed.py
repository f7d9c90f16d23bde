"""Results e-mail addresses stored before `address_key` existed get their key by migration, so a
data-rights request by address finds them too (and a look-alike still does not)."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps
from django.test import TestCase

from compliance.tests.conftest import consent_act
from portraits import notify
from portraits.models import ResultsEmail
from portraits.services import ClientInfo, create_job
from tests.photos import face_jpeg

pytestmark = pytest.mark.django_db

migration = importlib.import_module("portraits.migrations.0005_results_email_address_key")


def test_the_migration_keys_rows_stored_without_one(consent_fields: Any) -> None:
    with TestCase.captureOnCommitCallbacks(execute=False):
        created = create_job(
            photo=face_jpeg(),
            consent=consent_act(),
            client=ClientInfo(ip="203.0.113.9"),
            style_slug="corporate-grey",
            check_rate_limit=False,
        )
    entry = ResultsEmail.objects.create(job=created.job, address="Kim.Holder@GMAIL.com")
    ResultsEmail.objects.filter(pk=entry.pk).update(address_key="")  # as the rows before 0005
    assert not notify.results_emails_to("kim.holder@gmail.com").exists()

    migration.fill_address_keys(apps, None)

    assert list(notify.results_emails_to("kim.holder@gmail.com")) == [entry]
    assert not notify.results_emails_to("kim.holder@gma\u0131l.com").exists()
