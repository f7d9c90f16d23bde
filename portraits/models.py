"""Portrait jobs, their encrypted objects and the data keys that make those objects readable."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models

from proportrait.addresses import normalise_email


class DataKeyPurpose(models.TextChoices):
    ORIGINAL = "original", "Original photo"
    RESULTS = "results", "Generated portraits"
    EXPORT = "export", "Data export"


class DataKey(models.Model):
    """A per-object AES-256 key, stored only wrapped by a master key. Wiping it is crypto-shredding."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    purpose = models.CharField(max_length=20, choices=DataKeyPurpose.choices)
    master_key_id = models.CharField(max_length=40)
    wrapped_key = models.BinaryField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.purpose} key {self.id} ({'destroyed' if self.destroyed_at else 'live'})"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    PROCESSING = "processing", "Processing"
    # A transient fault (storage, database, broker) interrupted it; it runs again shortly.
    RETRYING = "retrying", "Retrying"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    DELETED = "deleted", "Deleted"


# A job in one of these still holds its original and may still produce portraits.
WAITING_STATUSES = (JobStatus.QUEUED, JobStatus.PROCESSING, JobStatus.RETRYING)


class PortraitJob(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    status = models.CharField(
        max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True
    )
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=40, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.CharField(max_length=300, blank=True)

    # Who may see it: the holder of the token (stored as a hash), the creating browser session
    # (its session holds the job id), or the owning account.
    token_hash = models.CharField(max_length=64, db_index=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="portrait_jobs",
    )

    style_slug = models.SlugField(max_length=80)
    style_spec = models.JSONField(
        help_text="The style used, as data (built-in or an organisation's brand style)."
    )
    backend = models.CharField(max_length=20, default="studio")
    variants = models.PositiveSmallIntegerField(default=4)
    seed = models.BigIntegerField(default=0)

    # The original photo: encrypted object + its own data key. Both go when the job ends.
    original_storage_key = models.CharField(max_length=200, blank=True)
    original_key = models.ForeignKey(
        DataKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    original_ciphertext_sha256 = models.CharField(max_length=64, blank=True)
    original_deleted_at = models.DateTimeField(null=True, blank=True, db_index=True)

    results_key = models.ForeignKey(
        DataKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(db_index=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    # The job's task is (re)published from the database when this passes and the job has not
    # started: a transactional outbox, so a lost message or a broker outage delays a job but
    # never strands it.
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="How many times a worker claimed it.")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"job {self.id} ({self.status})"

    @property
    def is_waiting(self) -> bool:
        """Not finished: waiting for a worker, running, or about to run again."""
        return self.status in WAITING_STATUSES

    @property
    def is_finished(self) -> bool:
        return self.status in {JobStatus.DONE, JobStatus.FAILED, JobStatus.DELETED}


class Portrait(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.ForeignKey(PortraitJob, on_delete=models.CASCADE, related_name="portraits")
    variant = models.PositiveSmallIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    full_format = models.CharField(max_length=10)
    full_storage_key = models.CharField(max_length=200)
    preview_storage_key = models.CharField(max_length=200)
    preview_width = models.PositiveIntegerField()
    preview_height = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["variant"]
        constraints = [models.UniqueConstraint(fields=["job", "variant"], name="portrait_job_variant")]

    def __str__(self) -> str:
        return f"portrait {self.variant} of job {self.job_id}"


# --- Purchases (Stripe-hosted Checkout). Payment never touches the photo: Stripe receives our
# purchase id, an amount and whatever the buyer types into Checkout, nothing else.


class PurchaseStatus(models.TextChoices):
    PENDING = "pending", "Waiting for payment"
    PAID = "paid", "Paid"
    REFUNDED = "refunded", "Refunded"
    DISPUTED = "disputed", "Disputed"
    ABANDONED = "abandoned", "Checkout expired"


class Purchase(models.Model):
    """One attempt to buy a job's full-resolution portraits; an accounting record once paid.

    Linked to a job only through `job` (our purchase id is all Stripe sees); the link is cut
    when the job's results expire or are erased, and the record itself is kept for the tax
    period (PROPORTRAIT_PURCHASE_RECORD_RETENTION_YEARS), then deleted.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.ForeignKey(
        PortraitJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="purchases"
    )
    status = models.CharField(
        max_length=12, choices=PurchaseStatus.choices, default=PurchaseStatus.PENDING, db_index=True
    )
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    checkout_session_id = models.CharField(max_length=255, blank=True, db_index=True)
    payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    # A keyed hash of the e-mail typed into Checkout, so a data-rights request can find the
    # purchase; the address itself stays with Stripe, which sends the receipt.
    email_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    # Amounts as Stripe charged them (tax included where Stripe Tax is on).
    amount_total_cents = models.PositiveIntegerField(null=True, blank=True)
    amount_tax_cents = models.PositiveIntegerField(null=True, blank=True)
    revocation_reason = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    job_unlinked_at = models.DateTimeField(null=True, blank=True)
    keep_until = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"purchase {self.id} ({self.status})"

    @property
    def grants_download(self) -> bool:
        return self.status == PurchaseStatus.PAID


class StripeEvent(models.Model):
    """Every Stripe event we acted on, by its id: a replayed or duplicated delivery does nothing."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    created_at_stripe = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class ResultsEmail(models.Model):
    """An address a job holder asked us to send their results link to.

    Kept only while the results exist: erase_job (delete now, withdrawal, retention purge, data
    rights erasure) deletes it together with the portraits. A data-rights erasure by this address
    deletes the row alone (portraits.notify.forget_results_emails_to), which also stops the
    e-mailed link from opening the results.
    """

    job = models.OneToOneField(PortraitJob, on_delete=models.CASCADE, related_name="results_email")
    address = models.EmailField(max_length=254)
    # The address's normalised key (proportrait.addresses.normalise_email): what a data-rights
    # request by address compares, exactly, never a database case-insensitive match.
    address_key = models.CharField(max_length=400, blank=True, db_index=True, editable=False)
    requested_at = models.DateTimeField(auto_now_add=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    sends = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return f"results e-mail for job {self.job_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.address_key = normalise_email(self.address)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "address" in update_fields:
            kwargs["update_fields"] = {*update_fields, "address_key"}
        super().save(*args, **kwargs)
