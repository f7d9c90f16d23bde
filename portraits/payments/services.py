"""Purchases of full-resolution portraits: start, deliver on a verified webhook, revoke, forget.

Delivery follows only a signature-verified `checkout.session.completed` with
payment_status=paid (portraits.payments.webhooks verifies and de-duplicates). The purchase is
found by our own purchase id, which is all Stripe knows about the job.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from compliance.audit import record_event
from portraits.models import JobStatus, PortraitJob, Purchase, PurchaseStatus
from portraits.payments import pricing
from portraits.payments.stripe_gateway import CHECKOUT_ORIGIN, GatewayError, HostedSession, gateway

logger = logging.getLogger(__name__)


class PurchaseRefused(Exception):
    """The purchase cannot start; the message says why, in words for the person."""


def full_resolution_unlocked(job: PortraitJob) -> bool:
    """May this job's full-resolution files be downloaded?

    Always with payments off (free mode). With payments on: when a purchase of the job is paid,
    or when the job belongs to a team member (the organisation pays per seat).
    """
    if not pricing.payments_enabled():
        return True
    if _is_team_job(job):
        return True
    return Purchase.objects.filter(job=job, status=PurchaseStatus.PAID).exists()


def _is_team_job(job: PortraitJob) -> bool:
    from django.apps import apps

    submission = apps.get_model("accounts", "TeamSubmission")
    return bool(submission.objects.filter(job_id=job.id).exists())


def latest_purchase(job: PortraitJob) -> Purchase | None:
    """The purchase that decides the job's state: a paid one if any, else the most recent attempt."""
    purchases = Purchase.objects.filter(job=job)
    paid = purchases.filter(status=PurchaseStatus.PAID).order_by("-paid_at").first()
    return paid or purchases.order_by("-created_at").first()


def purchase_panel(job: PortraitJob) -> dict[str, Any]:
    """What the results page shows about buying: price, state of the latest purchase, free mode."""
    enabled = pricing.payments_enabled()
    purchase = latest_purchase(job) if enabled else None
    unlocked = full_resolution_unlocked(job)
    return {
        "enabled": enabled,
        "price": pricing.full_resolution_price(),
        "unlocked": unlocked,
        "purchase": purchase,
        # What this purchase cost (tax included where Stripe added it), not today's price.
        "paid_amount": pricing.format_amount(
            purchase.amount_total_cents or purchase.amount_cents, purchase.currency
        )
        if purchase is not None
        else "",
        # Shown inside the results panel, which the page reveals when the job is done.
        "can_buy": enabled
        and job.status in {JobStatus.QUEUED, JobStatus.PROCESSING, JobStatus.DONE}
        and not unlocked,
    }


def purchase_record_keep_until(paid_at: datetime) -> datetime:
    """End of the tax retention period for a record paid at `paid_at`."""
    years = int(settings.PROPORTRAIT_PURCHASE_RECORD_RETENTION_YEARS)
    try:
        return paid_at.replace(year=paid_at.year + years)
    except ValueError:  # 29 February
        return paid_at.replace(year=paid_at.year + years, day=28)


def start_purchase(job: PortraitJob) -> tuple[Purchase, HostedSession]:
    """Create a purchase and its Stripe Checkout Session; the caller redirects to the session's url.

    Stripe receives our purchase id (metadata and client_reference_id), the price and a product
    name. Never the job id, its token or anything about the photo: the success and cancel URLs
    name the purchase, not the job.
    """
    # 1. Checks that store nothing.
    if not pricing.payments_enabled():
        raise PurchaseRefused("Downloads are free here: no payment is needed.")
    if job.status != JobStatus.DONE or job.expires_at <= timezone.now():
        raise PurchaseRefused("These portraits are no longer available, so they cannot be bought.")
    if full_resolution_unlocked(job):
        raise PurchaseRefused("You have already bought these portraits.")
    price = pricing.full_resolution_price()

    # 2. Our record first, so the id exists before Stripe sees it.
    purchase = Purchase.objects.create(job=job, amount_cents=price.amount_cents, currency=price.currency)
    purchase_id = str(purchase.id)
    return_url = settings.SITE_URL + reverse("portraits:purchase_return", args=[purchase.id])
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": price.currency,
                    "unit_amount": price.amount_cents,
                    "product_data": {"name": "ProPortrait full-resolution portraits"},
                },
            }
        ],
        "client_reference_id": purchase_id,
        "metadata": {"purchase_id": purchase_id},
        "payment_intent_data": {"metadata": {"purchase_id": purchase_id}},
        "success_url": return_url,
        "cancel_url": return_url,
    }
    if settings.STRIPE_AUTOMATIC_TAX:
        params["automatic_tax"] = {"enabled": True}

    # 3. The outside call; a failure leaves only an abandoned attempt behind.
    try:
        session = gateway().create_checkout_session(params, idempotency_key=f"purchase-{purchase_id}")
    except GatewayError:
        Purchase.objects.filter(pk=purchase.pk).update(status=PurchaseStatus.ABANDONED)
        raise
    if not session.url.startswith(CHECKOUT_ORIGIN + "/"):
        # Our CSP allows form posts to lead to Stripe's Checkout origin only.
        Purchase.objects.filter(pk=purchase.pk).update(status=PurchaseStatus.ABANDONED)
        raise GatewayError("Checkout Session URL is not on Stripe's Checkout origin.")
    Purchase.objects.filter(pk=purchase.pk).update(checkout_session_id=session.id)
    purchase.checkout_session_id = session.id
    record_event(
        "purchase.started",
        actor="job_holder",
        object_type="purchase",
        object_id=purchase_id,
        data={"job": str(job.id), "amount_cents": price.amount_cents, "currency": price.currency},
    )
    return purchase, session


# --- Webhook handlers (registered in portraits.payments.webhooks). Each returns an outcome word,
# or None when the object is not a purchase of ours (a team subscription, say).


def _purchase_id(data: dict[str, Any]) -> str:
    return str((data.get("metadata") or {}).get("purchase_id") or "")


def _locked_purchase(purchase_id: str) -> Purchase | None:
    try:
        return Purchase.objects.select_for_update().filter(id=uuid.UUID(purchase_id)).first()
    except ValueError:  # not one of our ids
        return None


def handle_checkout_completed(event: dict[str, Any]) -> str | None:
    """Deliver on checkout.session.completed (or async_payment_succeeded) with payment_status=paid.

    Out of order and duplicates: a purchase already refunded or disputed stays revoked; one
    already paid stays paid. A payment for a job whose results are gone (expired or erased), or
    a second payment for a job already bought, is refunded at once.
    """
    session = event["data"]["object"]
    if session.get("mode") not in (None, "payment"):
        return None
    purchase_id = _purchase_id(session)
    if not purchase_id:
        return None
    purchase = _locked_purchase(purchase_id)
    if purchase is None:
        logger.warning("Stripe checkout for unknown purchase %s", purchase_id)
        return "unknown_purchase"
    if purchase.checkout_session_id and session.get("id") != purchase.checkout_session_id:
        return "session_mismatch"
    if session.get("payment_status") != "paid":
        return "not_paid_yet"
    if purchase.status in {PurchaseStatus.PAID, PurchaseStatus.REFUNDED, PurchaseStatus.DISPUTED}:
        return f"already_{purchase.status}"

    now = timezone.now()
    purchase.payment_intent_id = str(session.get("payment_intent") or "")
    email = str((session.get("customer_details") or {}).get("email") or "")
    if email:
        from compliance.services.dsar import email_digest

        purchase.email_sha256 = email_digest(email)
    purchase.amount_total_cents = session.get("amount_total")
    purchase.amount_tax_cents = (session.get("total_details") or {}).get("amount_tax")
    purchase.paid_at = now
    purchase.keep_until = purchase_record_keep_until(now)

    job = purchase.job
    reason = ""
    if job is None or job.status != JobStatus.DONE or job.expires_at <= now:
        reason = "results_gone"
    elif Purchase.objects.filter(job=job, status=PurchaseStatus.PAID).exclude(pk=purchase.pk).exists():
        reason = "duplicate_payment"
    if reason:
        _refund(purchase, reason=reason, now=now)
        outcome = f"refunded_{reason}"
    else:
        purchase.status = PurchaseStatus.PAID
        outcome = "delivered"
    purchase.save()
    record_event(
        "purchase.paid" if outcome == "delivered" else "purchase.refunded",
        actor="stripe",
        object_type="purchase",
        object_id=str(purchase.id),
        data={"event": str(event.get("id")), "outcome": outcome},
    )
    return outcome


def _refund(purchase: Purchase, *, reason: str, now: datetime) -> None:
    # A paid session without a payment intent charged nothing (a 100% discount): nothing to return.
    if purchase.payment_intent_id:
        gateway().refund_payment(purchase.payment_intent_id, idempotency_key=f"refund-{purchase.id}")
    purchase.status = PurchaseStatus.REFUNDED
    purchase.revocation_reason = reason
    purchase.revoked_at = now


def handle_checkout_expired(event: dict[str, Any]) -> str | None:
    session = event["data"]["object"]
    purchase_id = _purchase_id(session)
    if session.get("mode") not in (None, "payment") or not purchase_id:
        return None
    updated = Purchase.objects.filter(id=purchase_id, status=PurchaseStatus.PENDING).update(
        status=PurchaseStatus.ABANDONED
    )
    return "abandoned" if updated else "ignored"


def _purchase_for_payment(data: dict[str, Any]) -> Purchase | None:
    """The purchase a charge, refund or dispute belongs to: by payment intent, else by our id."""
    payment_intent = str(data.get("payment_intent") or "")
    if payment_intent:
        found = Purchase.objects.select_for_update().filter(payment_intent_id=payment_intent).first()
        if found is not None:
            return found
    purchase_id = _purchase_id(data)
    if not purchase_id and payment_intent:
        # A refund or dispute may arrive before checkout.session.completed: ask Stripe which
        # purchase the payment intent was for (we put our id in its metadata).
        purchase_id = gateway().payment_intent_purchase_id(payment_intent)
    purchase = _locked_purchase(purchase_id) if purchase_id else None
    if purchase is not None and payment_intent and not purchase.payment_intent_id:
        purchase.payment_intent_id = payment_intent
    return purchase


def _revoke(event: dict[str, Any], status: str, reason: str) -> str | None:
    data = event["data"]["object"]
    purchase = _purchase_for_payment(data)
    if purchase is None:
        return None
    if purchase.status == status:
        return f"already_{status}"
    purchase.status = status
    purchase.revocation_reason = reason
    purchase.revoked_at = timezone.now()
    if purchase.keep_until is None:
        purchase.keep_until = purchase_record_keep_until(purchase.revoked_at)
    purchase.save()
    record_event(
        f"purchase.{status}",
        actor="stripe",
        object_type="purchase",
        object_id=str(purchase.id),
        data={"event": str(event.get("id")), "reason": reason},
    )
    return f"revoked_{status}"


def handle_charge_refunded(event: dict[str, Any]) -> str | None:
    """A full refund (from the dashboard or ours) takes the download away; partial ones do not."""
    charge = event["data"]["object"]
    if not charge.get("refunded"):
        return "partial_refund_kept"
    return _revoke(event, PurchaseStatus.REFUNDED, "refunded")


def handle_dispute_created(event: dict[str, Any]) -> str | None:
    return _revoke(event, PurchaseStatus.DISPUTED, "disputed")


def handle_dispute_closed(event: dict[str, Any]) -> str | None:
    """A dispute we won gives the download back; a lost one keeps it revoked."""
    dispute = event["data"]["object"]
    purchase = _purchase_for_payment(dispute)
    if purchase is None:
        return None
    if dispute.get("status") != "won" or purchase.status != PurchaseStatus.DISPUTED:
        return "dispute_closed"
    purchase.status = PurchaseStatus.PAID
    purchase.revocation_reason = ""
    purchase.revoked_at = None
    purchase.save()
    record_event(
        "purchase.reinstated",
        actor="stripe",
        object_type="purchase",
        object_id=str(purchase.id),
        data={"event": str(event.get("id"))},
    )
    return "reinstated"


# --- Links and retention.


def unlink_job_purchases(job: PortraitJob) -> int:
    """Cut the link between a job and its purchases (results expired or erased); records stay."""
    return Purchase.objects.filter(job_id=job.pk).update(job=None, job_unlinked_at=timezone.now())


def delete_expired_purchase_records(now: datetime | None = None) -> dict[str, int]:
    """Scheduled daily: paid records past the tax period, and checkout attempts never paid."""
    now = now or timezone.now()
    with transaction.atomic():
        kept_out, _ = Purchase.objects.filter(keep_until__lte=now).delete()
        abandoned, _ = Purchase.objects.filter(
            status__in=[PurchaseStatus.PENDING, PurchaseStatus.ABANDONED],
            paid_at__isnull=True,
            created_at__lt=now - timedelta(days=settings.PROPORTRAIT_UNPAID_PURCHASE_RETENTION_DAYS),
        ).delete()
        if kept_out or abandoned:
            record_event(
                "purchases.deleted",
                actor="system:housekeeping",
                object_type="purchase",
                data={"past_tax_period": kept_out, "never_paid": abandoned},
            )
    return {"past_tax_period": kept_out, "never_paid": abandoned}
