"""An account's data needs the account holder, not only control of its mailbox.

Found: a verified e-mail code alone exported a 2FA-protected account's portraits, or erased it;
erasing the only owner of an organisation left it with no member and a live API token.
Now such a request waits until the holder signs in (with the second factor where the account
has one) and confirms; an erasure that would leave an organisation without an owner waits
for staff, and nothing is erased meanwhile.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client, TestCase

from compliance.models import AuditEvent, DataExport, DataSubjectRequest, DsarHold, DsarStatus
from compliance.tests.conftest import confirm_as_holder, give_consent, make_user, message_parts

pytestmark = pytest.mark.django_db

EMAIL = "holder@example.com"


def request_and_verify(api_client: Any, request_type: str, email: str = EMAIL) -> DataSubjectRequest:
    response = api_client.post("/api/v1/dsar/", {"email": email, "request_type": request_type}, format="json")
    assert response.status_code == 202, response.content
    code = re.search(r"\b(\d{6})\b", str(mail.outbox[-1].body))
    assert code is not None
    verified = api_client.post(
        f"/api/v1/dsar/{response.json()['id']}/verify/", {"code": code.group(1)}, format="json"
    )
    assert verified.status_code == 200, verified.content
    return DataSubjectRequest.objects.get(pk=response.json()["id"])


def with_two_factor(user: Any) -> Any:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user


def password_only_client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_mailbox_alone_releases_nothing_of_an_account(api_client: Any, eager_celery: None) -> None:
    holder = with_two_factor(make_user(EMAIL))
    give_consent(user=holder)

    request = request_and_verify(api_client, "access")

    assert request.status == DsarStatus.VERIFIED and request.hold == DsarHold.ACCOUNT_SIGN_IN
    assert not DataExport.objects.exists()
    assert not any("/privacy/exports/" in message.body for message in mail.outbox)
    verified_mail = mail.outbox[-1]
    assert verified_mail.to == [EMAIL]
    confirm_path = f"/privacy/requests/{request.pk}/confirm/"
    text, html = message_parts(verified_mail)
    assert confirm_path in text and confirm_path in html
    assert "signing in" in text and "Sign in to confirm" in html
    # The page the requester sees says the same.
    page = Client().get(f"/privacy/requests/{request.pk}/").content.decode()
    assert "Sign in to confirm" in page and "belongs to a ProPortrait account" in page


def test_an_erasure_by_mailbox_alone_erases_nothing(api_client: Any, eager_celery: None) -> None:
    from accounts.models import User

    holder = with_two_factor(make_user(EMAIL))

    request = request_and_verify(api_client, "erasure")

    assert request.hold == DsarHold.ACCOUNT_SIGN_IN and request.certificate_id is None
    assert User.objects.get(pk=holder.pk).is_active
    assert not AuditEvent.objects.filter(action="erasure.started").exists()


def test_signed_out_people_are_sent_to_sign_in_and_other_accounts_learn_nothing(
    api_client: Any, eager_celery: None
) -> None:
    make_user(EMAIL)
    outsider = make_user("outsider@example.com")
    request = request_and_verify(api_client, "access")
    path = f"/privacy/requests/{request.pk}/confirm/"

    signed_out = Client().post(path)
    other = password_only_client(outsider).post(path)

    assert signed_out.status_code == 302 and signed_out["Location"].startswith("/accounts/login/")
    assert other.status_code == 404
    request.refresh_from_db()
    assert request.hold == DsarHold.ACCOUNT_SIGN_IN and request.account_confirmed_at is None


def test_a_password_alone_does_not_confirm_for_an_account_with_a_second_factor(
    api_client: Any, eager_celery: None
) -> None:
    holder = with_two_factor(make_user(EMAIL))
    request = request_and_verify(api_client, "access")
    path = f"/privacy/requests/{request.pk}/confirm/"

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = password_only_client(holder).post(path)

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/code/")
    request.refresh_from_db()
    assert request.hold == DsarHold.ACCOUNT_SIGN_IN and not DataExport.objects.exists()


def test_the_signed_in_holder_confirms_and_the_request_runs(api_client: Any, eager_celery: None) -> None:
    holder = with_two_factor(make_user(EMAIL))
    give_consent(user=holder)
    request = request_and_verify(api_client, "access")

    confirm_as_holder(holder, request.pk)

    request.refresh_from_db()
    assert request.status == DsarStatus.COMPLETED and request.account_confirmed_at is not None
    assert DataExport.objects.filter(request=request).count() == 1
    assert mail.outbox[-1].to == [EMAIL] and "/privacy/exports/" in mail.outbox[-1].body
    confirmed = AuditEvent.objects.get(action="dsar.account_confirmed", object_id=str(request.pk))
    assert confirmed.actor == f"user:{holder.pk}" and confirmed.data == {"second_factor": True}


def test_an_account_without_a_second_factor_confirms_after_signing_in(
    api_client: Any, eager_celery: None
) -> None:
    holder = make_user(EMAIL)
    request = request_and_verify(api_client, "portability")
    client = password_only_client(holder)

    page = client.get(f"/privacy/requests/{request.pk}/confirm/")
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(f"/privacy/requests/{request.pk}/confirm/")

    assert page.status_code == 200 and "Confirm this request" in page.content.decode()
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == DsarStatus.COMPLETED


def test_erasing_an_organisations_only_owner_waits_for_staff(
    api_client: Any, eager_celery: None, team: Any
) -> None:
    from accounts.models import Membership, OrganisationApiToken
    from accounts.teams import create_api_token

    create_api_token(team.organisation, name="HR", actor=team.owner)
    request = request_and_verify(api_client, "erasure", email=team.owner.email)
    mail.outbox.clear()

    confirm_as_holder(team.owner, request.pk)

    request.refresh_from_db()
    team.owner.refresh_from_db()
    assert request.status == DsarStatus.VERIFIED and request.hold == DsarHold.SOLE_OWNER
    assert request.certificate_id is None
    assert team.owner.is_active and Membership.objects.filter(user=team.owner, role="owner").exists()
    assert OrganisationApiToken.objects.filter(organisation=team.organisation).exists()
    held = mail.outbox[-1]
    assert held.to == [team.owner.email] and "only owner of an organisation" in held.body
    assert "not erased anything" in held.body
    page = Client().get(f"/privacy/requests/{request.pk}/").content.decode()
    assert "waits for our privacy team" in page


def test_staff_release_a_held_request_with_a_note_and_it_runs(api_client: Any, eager_celery: None) -> None:
    from compliance.services.dsar import DsarError, release_held_request

    make_user(EMAIL)
    request = request_and_verify(api_client, "access")

    with pytest.raises(DsarError):
        release_held_request(request, note=" ", actor="staff:1")
    with TestCase.captureOnCommitCallbacks(execute=True):
        release_held_request(
            request, note="Checked by phone against the account's billing record", actor="staff:1"
        )

    request.refresh_from_db()
    assert request.status == DsarStatus.COMPLETED
    assert AuditEvent.objects.filter(action="dsar.released", actor="staff:1").exists()


def test_staff_release_a_held_request_from_the_admin(
    api_client: Any, eager_celery: None, staff_client: Any
) -> None:
    make_user(EMAIL)
    request = request_and_verify(api_client, "access")

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = staff_client.post(
            "/admin/compliance/datasubjectrequest/",
            {"action": "release", "_selected_action": [str(request.pk)], "reason": "Checked by video call"},
        )

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == DsarStatus.COMPLETED and request.hold == DsarHold.NONE
