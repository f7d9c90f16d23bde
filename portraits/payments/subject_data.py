"""Purchases in data-rights requests: the export part and the eraser (registered in apps.py).

A person is matched by the jobs they proved they hold, the jobs of their account, or the
e-mail they gave at checkout (we keep only a keyed hash of it). Paid purchase records are
accounting records that tax law makes us keep (GDPR Art. 17(3)(b)); an erasure removes every
link to the person and to their portraits, deletes what was never paid, and says what is kept
and until when.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from compliance.services.erasure import ErasureReport, ErasureScope, Subject
from compliance.services.exports import ExportPart
from portraits.models import Purchase, PurchaseStatus


def _subject_purchases(subject: Subject) -> Any:
    condition = Q(pk__in=[])
    if subject.job_ids:
        condition |= Q(job_id__in=list(subject.job_ids))
    if subject.user_id is not None:
        condition |= Q(job__owner_id=subject.user_id)
    if subject.email:
        from compliance.services.dsar import email_digest

        condition |= Q(email_sha256=email_digest(subject.email))
    return Purchase.objects.filter(condition).order_by("created_at")


def export_subject_purchases(subject: Subject) -> ExportPart:
    """Every purchase we hold for the subject, with what we keep and until when."""
    rows = [
        {
            "purchase_id": str(purchase.id),
            "status": purchase.status,
            "amount_cents": purchase.amount_cents,
            "amount_total_cents": purchase.amount_total_cents,
            "amount_tax_cents": purchase.amount_tax_cents,
            "currency": purchase.currency,
            "created_at": purchase.created_at.isoformat(),
            "paid_at": purchase.paid_at.isoformat() if purchase.paid_at else None,
            "revoked_at": purchase.revoked_at.isoformat() if purchase.revoked_at else None,
            "revocation_reason": purchase.revocation_reason,
            "job_id": str(purchase.job_id) if purchase.job_id else None,
            "kept_until": purchase.keep_until.isoformat() if purchase.keep_until else None,
            "payment_reference": purchase.payment_intent_id,
        }
        for purchase in _subject_purchases(subject)
    ]
    if not rows:
        # Nothing held: an answer may then truthfully say "we found no data linked to this".
        return ExportPart({"purchases": []})
    return ExportPart(
        {
            "purchases": rows,
            "payment_processor": "Stripe holds the e-mail, card details and receipts you gave at checkout; "
            "ask Stripe for them, or us, and we will forward your request.",
        }
    )


def erase_subject_purchases(subject: Subject) -> ErasureReport:
    """Delete never-paid attempts; unlink and un-hash paid records, which tax law keeps until `keep_until`."""
    if subject.scope == ErasureScope.BIOMETRIC:
        return ErasureReport(
            "purchases", {}, notes="Consent withdrawal: purchase records are not biometric data."
        )
    purchases = _subject_purchases(subject)
    never_paid, _ = (
        purchases.filter(paid_at__isnull=True)
        .exclude(status__in=[PurchaseStatus.REFUNDED, PurchaseStatus.DISPUTED])
        .delete()
    )
    kept = list(_subject_purchases(subject))
    now = timezone.now()
    Purchase.objects.filter(pk__in=[p.pk for p in kept]).update(
        job=None, email_sha256="", job_unlinked_at=now
    )
    keep_until = max((p.keep_until for p in kept if p.keep_until), default=None)
    notes = ""
    if kept:
        notes = (
            f"{len(kept)} paid purchase record(s) kept for tax law (GDPR Art. 17(3)(b)) until "
            f"{keep_until:%d %B %Y}: amount, currency, dates and Stripe payment reference only, "
            "with no link to you or your portraits. Stripe keeps its own payment records as a "
            "separate controller."
            if keep_until
            else f"{len(kept)} purchase record(s) kept for tax law, with no link to you or your portraits."
        )
    return ErasureReport(
        "purchases",
        {"unpaid_purchases_deleted": never_paid, "paid_purchases_unlinked": len(kept)},
        notes=notes,
    )
