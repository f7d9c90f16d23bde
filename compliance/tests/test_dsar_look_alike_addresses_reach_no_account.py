"""A data-rights request typed with a look-alike of someone's address never reaches their account.

Found on PostgreSQL: `email__iexact` compares UPPER() under the database collation, which folds
the dotless i (U+0131) to I, so victim@gma<U+0131>l.com (a punycode domain anyone can register)
matched the account victim@gmail.com; the code went to the look-alike, and the export held the
victim's account and portraits. Each row below is a spelling an attacker could use; the test
runs on both stacks.

Three outcomes are right:
- "refused": the form refuses the address (400, nothing stored, nothing sent).
- "nobody": a different mailbox (another domain, or a local part that differs after
  normalisation) matches no account; the typed address only ever gets its own request.
- "holder": a spelling of the *same* address (case, full width, compatibility forms) matches the
  account, and then every message goes to the account's stored address, never to the one typed.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail

from compliance.models import ConsentRecord, DataExport, DataSubjectRequest, DsarStatus
from compliance.tests.conftest import give_consent, make_user

pytestmark = pytest.mark.django_db

VICTIM = "sam.victim@gmail.com"

CONFUSABLES = [
    # (what is typed, expected outcome, what it is)
    ("sam.victim@gma\u0131l.com", "nobody", "dotless i (U+0131) in the domain: PostgreSQL UPPER() gives I"),
    ("sam.v\u0131ctim@gmail.com", "nobody", "dotless i in the local part"),
    ("sam.victim@gm\u0430il.com", "nobody", "Cyrillic a (U+0430) in the domain"),
    ("sam.vict\u043em@gmail.com", "refused", "Cyrillic o (U+043E) in the local part"),
    ("sam.victim@gmail.c\u03bfm", "nobody", "Greek omicron (U+03BF) in the top-level domain"),
    ("sam.v\u0130ctim@gmail.com", "nobody", "capital I with dot (U+0130): lowercases to i + combining dot"),
    ("sam.vic\u200btim@gmail.com", "refused", "zero-width space inside the local part"),
    ("sam.victim@gmail.com.evil.example", "nobody", "the real domain as a prefix of another"),
    ("\u017fam.victim@gmail.com", "holder", "long s (U+017F): PostgreSQL UPPER() gives S; NFKC gives s"),
    ("SAM.VICTIM@GMAIL.COM", "holder", "upper case"),
    ("\uff53\uff41\uff4d.victim@gmail.com", "refused", "full-width letters in the local part"),
    ("sam.victim@gmail.com\u200b", "holder", "zero-width space after the domain: IDNA drops it"),
    ("sam.victim@gmail.com", "holder", "the address itself, as a control"),
    (
        "sam.victim@\uff47\uff4d\uff41\uff49\uff4c.com",
        "holder",
        "full-width domain: IDNA maps it to gmail.com",
    ),
    ("sam.victim@GMAIL.com.", "refused", "the root dot after the domain"),
]


def _code(message: Any) -> str:
    found = re.search(r"\b(\d{6})\b", str(message.body))
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize(("typed", "expected", "why"), CONFUSABLES, ids=[row[2] for row in CONFUSABLES])
def test_it_matches_a_look_alike_to_nobody_and_mails_only_the_stored_address(
    typed: str, expected: str, why: str, api_client: Any, client: Any, eager_celery: None
) -> None:
    victim = make_user(VICTIM, first_name="Sam")
    give_consent(user=victim, name="Sam Victim")

    response = api_client.post("/api/v1/dsar/", {"email": typed, "request_type": "access"}, format="json")

    if expected == "refused":
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_request"
        assert mail.outbox == [] and not DataSubjectRequest.objects.exists()
        return
    assert response.status_code == 202, response.content
    request = DataSubjectRequest.objects.get(pk=response.json()["id"])
    received = mail.outbox[-1]
    if expected == "holder":
        # Same mailbox: the code goes to the stored address only, never to the spelling typed.
        assert all(message.to == [VICTIM] for message in mail.outbox), [m.to for m in mail.outbox]
        assert request.email == VICTIM
    else:
        assert received.to == [typed] and VICTIM not in received.body
        assert all(VICTIM not in message.to for message in mail.outbox)

    verified = api_client.post(f"/api/v1/dsar/{request.pk}/verify/", {"code": _code(received)}, format="json")

    assert verified.status_code == 200, verified.content
    request.refresh_from_db()
    if expected == "holder":
        # Her account: nothing is released until she signs in (test_dsar_account_needs_its_holder).
        assert request.matched_subject["user_id"] == victim.pk
        assert verified.json() == {"status": "verified", "hold": "account_sign_in"}
        assert all(message.to == [VICTIM] for message in mail.outbox)
        return
    assert request.matched_subject.get("user_id") is None
    assert request.status == DsarStatus.COMPLETED
    # Nothing of hers is reached: the look-alike's own answer says no data was found.
    answer = mail.outbox[-1]
    assert answer.to == [typed] and "We found no data linked to this" in answer.body
    assert "/privacy/exports/" not in answer.body and not DataExport.objects.exists()
    assert all(VICTIM not in message.body and "Sam Victim" not in message.body for message in mail.outbox)


def test_an_erasure_typed_with_a_look_alike_erases_nothing_of_the_account(
    api_client: Any, eager_celery: None
) -> None:
    from accounts.models import User

    victim = make_user(VICTIM)
    give_consent(user=victim)
    typed = "sam.victim@gma\u0131l.com"

    response = api_client.post("/api/v1/dsar/", {"email": typed, "request_type": "erasure"}, format="json")
    request_id = response.json()["id"]
    api_client.post(f"/api/v1/dsar/{request_id}/verify/", {"code": _code(mail.outbox[-1])}, format="json")

    victim.refresh_from_db()
    assert victim.is_active and victim.email == VICTIM
    assert User.objects.filter(email=VICTIM).exists()
    assert ConsentRecord.objects.filter(user_id=victim.pk).exists()
    assert all(VICTIM not in message.to for message in mail.outbox)
