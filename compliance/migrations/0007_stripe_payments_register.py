"""Stripe becomes a recipient: an entry in the sub-processor register and in the records of processing.

Stripe receives the e-mail and payment details a buyer types into its hosted Checkout, an
organisation's billing contact, and our purchase id; never photos, portraits or job tokens.
This migration records the entry; staff then publish the register as a new version with the
sub-processor admin's "publish" action (publish_subprocessor_register), which emails every
organisation's admins and starts the objection period (GDPR Art. 28(2)). A migration sends no mail.
"""

import datetime

from django.db import migrations

STRIPE = {
    "name": "Stripe Payments Europe, Ltd.",
    "purpose": "Payments: hosted checkout for full-resolution downloads, team-plan subscriptions, "
    "invoices and receipts",
    "location": "Ireland (EU); Stripe, Inc. in the United States",
    "transfer_safeguard": "EU Standard Contractual Clauses (2021/914) and EU-US Data Privacy Framework "
    "for transfers to Stripe, Inc.",
    "data_categories": "E-mail, name and payment details the buyer gives at checkout; organisation billing "
    "contact; our purchase id. Never photos, portraits or face data",
    "since": datetime.date(2026, 11, 30),
}

PAYMENTS_ACTIVITY = {
    "name": "Payments and invoicing",
    "role": "controller",
    "purpose": "Sell full-resolution downloads and team-plan seats; keep accounting records; handle refunds "
    "and disputes",
    "legal_basis": "GDPR Art. 6(1)(b) contract; Art. 6(1)(c) legal obligation to keep accounting records",
    "data_subjects": "Buyers (no account needed) and organisations' billing contacts",
    "data_categories": "Purchase id, amount, currency, dates, Stripe payment reference, a keyed hash of the "
    "checkout e-mail; for teams: billing e-mail, Stripe customer and subscription ids, seat count. Card "
    "details are held by Stripe only",
    "recipients": "Stripe (payment processor, see the sub-processor register)",
    "transfers": "Stripe, Inc. (US) under EU SCCs and the EU-US Data Privacy Framework",
    "retention": "Purchase records: the tax period in the retention schedule (default 10 years), link to "
    "portraits cut when they are deleted; unpaid checkout attempts: 7 days",
    "security_measures": "Hosted checkout (no card data or payment script on our pages), webhook signatures "
    "verified, events processed once by id, audit log",
}


def add_stripe(apps, schema_editor):
    SubProcessor = apps.get_model("compliance", "SubProcessor")
    SubProcessor.objects.get_or_create(name=STRIPE["name"], defaults=STRIPE)
    apps.get_model("compliance", "ProcessingActivity").objects.get_or_create(
        name=PAYMENTS_ACTIVITY["name"], defaults=PAYMENTS_ACTIVITY
    )


def remove_stripe(apps, schema_editor):
    apps.get_model("compliance", "SubProcessor").objects.filter(name=STRIPE["name"]).delete()
    apps.get_model("compliance", "ProcessingActivity").objects.filter(name=PAYMENTS_ACTIVITY["name"]).delete()


class Migration(migrations.Migration):
    dependencies = [("compliance", "0006_export_wrapped_key")]
    operations = [migrations.RunPython(add_stripe, remove_stripe)]
