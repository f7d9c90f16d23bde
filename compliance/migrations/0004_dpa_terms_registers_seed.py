"""Publish DPA v1 and terms v1; seed the sub-processor register (v1) and the records of processing.

Data migrations are one of the two ways documents change (the other is the admin): each new
text is a new version, so older records keep pointing at exactly what was accepted.
"""

import datetime
import hashlib
import json

from django.db import migrations
from django.utils import timezone

DPA_TITLE = "Data Processing Agreement (GDPR Art. 28)"
DPA_TEXT = """\
1. Parties and roles. The organisation named in this agreement is the controller of the personal data of its \
members processed for its headshot programme. ProPortrait AI is its processor.

2. Subject matter and duration. The processor generates professional headshots of the controller's members from \
one photo each, for as long as the organisation keeps its ProPortrait account, and deletes all personal data \
as set out in clause (g) when it ends.

3. Nature and purpose. Upload, encryption, automated generation of portraits, review and approval by the \
organisation, delivery and deletion. The only purpose is to produce the headshots the controller orders.

4. Types of personal data. Member name and work email; the uploaded photo (biometric data, held encrypted for \
minutes only); generated portraits; consent records; approval status.

5. Categories of data subjects. Employees and contractors of the controller who accept its invitation.

(a) Documented instructions. The processor processes personal data only on documented instructions from the \
controller, given through the organisation settings, this agreement and written requests, including with regard \
to transfers, unless required by law, in which case it informs the controller first where the law allows.

(b) Confidentiality. Everyone authorised to process the personal data is bound by confidentiality; staff have \
no access to original photos, which are encrypted and destroyed within minutes.

(c) Security (Art. 32). The processor takes the measures in Annex II: AES-256-GCM encryption per object with \
wrapped keys, TLS, two-factor authentication for staff and organisation admins, a tamper-evident audit log, \
and regular restore and fault tests.

(d) Sub-processors. The controller authorises the sub-processors in Annex III. The processor gives notice of \
any intended change through the register and by email, and the controller may object within the notice period. \
Each sub-processor is bound by the same obligations, and the processor remains liable for it.

(e) Assistance with data subject rights. The processor helps the controller answer requests under Chapter III \
GDPR, with automated access, portability and erasure and a deletion certificate for each erasure.

(f) Assistance with Arts. 32-36. The processor helps the controller with security, breach notification \
(notifying the controller without undue delay and within 72 hours at the latest), impact assessments and prior \
consultation, taking into account the information available to it.

(g) Deletion or return. At the end of the service the processor deletes, or at the controller's choice returns \
and then deletes, all personal data, and issues a deletion certificate, unless law requires storage.

(h) Audit. The processor makes available all information necessary to demonstrate compliance, including its \
audit log and records of processing, and allows for and contributes to audits by the controller or its auditor."""

TERMS_TITLE = "Terms of service"
TERMS_TEXT = """\
ProPortrait AI makes professional portraits from one photo you upload. You must have the right to upload the \
photo and it must show you. Portraits are AI-generated and marked as such in their metadata. We may refuse or \
delete content that breaks the law. The service is provided as is; our liability is limited to the amount you \
paid in the last twelve months, except where the law does not allow a limit. Your privacy is governed by our \
privacy notice and, for organisations, the data processing agreement."""

SUBPROCESSORS = [
    {
        "name": "Hetzner Online GmbH",
        "purpose": "Hosting of the web, worker and database servers",
        "location": "Germany and Finland (EU)",
        "transfer_safeguard": "No transfer: processing stays in the EEA",
        "data_categories": "All service data, encrypted at rest",
        "since": datetime.date(2026, 1, 1),
    },
    {
        "name": "Amazon Web Services EMEA SARL",
        "purpose": "Object storage of encrypted photos and portraits (ciphertext only)",
        "location": "Frankfurt, Germany (EU)",
        "transfer_safeguard": "EU region; EU Standard Contractual Clauses (2021/914) and EU-US Data Privacy "
        "Framework for any access by the US parent",
        "data_categories": "Ciphertext of photos and portraits; no keys",
        "since": datetime.date(2026, 1, 1),
    },
    {
        "name": "Postmark (ActiveCampaign, LLC)",
        "purpose": "Delivery of transactional email",
        "location": "United States",
        "transfer_safeguard": "EU Standard Contractual Clauses (2021/914, module 3) and UK IDTA addendum",
        "data_categories": "Email address and message content (no photos)",
        "since": datetime.date(2026, 1, 1),
    },
]

ROPA = [
    {
        "name": "Portrait generation (anonymous and personal accounts)",
        "role": "controller",
        "purpose": "Generate professional portraits from one uploaded photo, then destroy the photo",
        "legal_basis": "GDPR Art. 6(1)(b) contract and Art. 9(2)(a) explicit consent; BIPA 15(b) written release",
        "data_subjects": "Visitors and account holders who upload a photo of themselves",
        "data_categories": "Photo (biometric data, minutes only); generated portraits; job status",
        "recipients": "Sub-processors in the register (hosting, encrypted storage)",
        "transfers": "None outside the EEA for photos and portraits",
        "retention": "Photo: destroyed at job end (dead-man limit in the retention schedule); portraits: per the "
        "published retention schedule",
        "security_measures": "AES-256-GCM per object, wrapped keys, crypto-shredding, TLS, audit log",
    },
    {
        "name": "Organisation headshot programmes",
        "role": "processor",
        "purpose": "Produce headshots of an organisation's members on its instructions (DPA)",
        "legal_basis": "Controller's instructions under the DPA (Art. 28); member's explicit consent for the photo",
        "data_subjects": "Employees and contractors invited by the organisation",
        "data_categories": "Name, work email, photo (minutes only), portraits, approval status",
        "recipients": "The organisation's admins (portraits only, never photos); sub-processors in the register",
        "transfers": "Email delivery provider in the US under SCCs (email address only)",
        "retention": "Per the organisation's policy, shown in its DPA",
        "security_measures": "As above, plus role-based access and 2FA for organisation admins",
    },
    {
        "name": "User accounts",
        "role": "controller",
        "purpose": "Let people keep portraits, sign in and manage their data",
        "legal_basis": "GDPR Art. 6(1)(b) contract",
        "data_subjects": "Account holders",
        "data_categories": "Email, name, password hash, two-factor settings",
        "recipients": "Hosting and email sub-processors",
        "transfers": "Email delivery provider in the US under SCCs",
        "retention": "Until the account is deleted",
        "security_measures": "Argon2 password hashing, 2FA, TLS, audit log",
    },
    {
        "name": "Consent records",
        "role": "controller",
        "purpose": "Prove explicit consent and its withdrawal (GDPR Art. 7(1), BIPA 15(b))",
        "legal_basis": "GDPR Art. 6(1)(c) legal obligation",
        "data_subjects": "Everyone who uploads a photo",
        "data_categories": "Typed name, truncated IP, browser, document version and hash, time",
        "recipients": "None",
        "transfers": "None",
        "retention": "While the data consented to exists; erased on an erasure request",
        "security_measures": "Immutable records, audit log",
    },
    {
        "name": "Data subject requests",
        "role": "controller",
        "purpose": "Receive, verify and answer rights requests",
        "legal_basis": "GDPR Art. 6(1)(c) legal obligation (Arts. 12-22; CCPA)",
        "data_subjects": "Anyone who makes a request",
        "data_categories": "Email, request type and text, dates, outcome",
        "recipients": "Email sub-processor",
        "transfers": "Email delivery provider in the US under SCCs",
        "retention": "Email removed when the request closes; record kept 24 months (CCPA 7101)",
        "security_measures": "Verification code stored as a keyed hash, attempt limits, audit log",
    },
    {
        "name": "Security audit log",
        "role": "controller",
        "purpose": "Prove what happened to data and detect tampering",
        "legal_basis": "GDPR Art. 6(1)(c) and (f): accountability (Art. 5(2)) and security (Art. 32)",
        "data_subjects": "Everyone whose data we process (by opaque id only)",
        "data_categories": "Event type, time, opaque ids, hashes and counts; no personal data",
        "recipients": "None",
        "transfers": "None",
        "retention": "Per the published retention schedule",
        "security_measures": "Append-only, hash-chained, verified by command and admin action",
    },
]


def publish(apps, schema_editor):
    ConsentDocument = apps.get_model("compliance", "ConsentDocument")
    now = timezone.now()
    for kind, title, text, notes in [
        ("dpa", DPA_TITLE, DPA_TEXT, "GDPR Art. 28(3)(a)-(h); UK GDPR."),
        ("terms", TERMS_TITLE, TERMS_TEXT, ""),
    ]:
        ConsentDocument.objects.get_or_create(
            kind=kind,
            version=1,
            defaults={
                "title": title,
                "text": text,
                "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
                "effective_at": now,
                "jurisdiction_notes": notes,
            },
        )
    SubProcessor = apps.get_model("compliance", "SubProcessor")
    for entry in SUBPROCESSORS:
        SubProcessor.objects.get_or_create(name=entry["name"], defaults=entry)
    entries = [
        {**{k: v for k, v in e.items() if k != "since"}, "since": e["since"].isoformat()}
        for e in sorted(SUBPROCESSORS, key=lambda e: e["name"])
    ]
    apps.get_model("compliance", "SubprocessorRegisterVersion").objects.get_or_create(
        version=1,
        defaults={
            "published_at": now,
            "change_summary": "First published register.",
            "entries": entries,
            "sha256": hashlib.sha256(json.dumps(entries, sort_keys=True).encode()).hexdigest(),
            "objection_deadline": now,
        },
    )
    ProcessingActivity = apps.get_model("compliance", "ProcessingActivity")
    for activity in ROPA:
        ProcessingActivity.objects.get_or_create(name=activity["name"], defaults=activity)


def unpublish(apps, schema_editor):
    apps.get_model("compliance", "ConsentDocument").objects.filter(kind__in=["dpa", "terms"], version=1).delete()
    apps.get_model("compliance", "SubprocessorRegisterVersion").objects.filter(version=1).delete()
    apps.get_model("compliance", "SubProcessor").objects.filter(name__in=[e["name"] for e in SUBPROCESSORS]).delete()
    apps.get_model("compliance", "ProcessingActivity").objects.filter(name__in=[a["name"] for a in ROPA]).delete()


class Migration(migrations.Migration):
    dependencies = [("compliance", "0003_registers_requests_certificates")]
    operations = [migrations.RunPython(publish, unpublish)]
