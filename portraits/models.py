"""Portrait jobs, their encrypted objects and the data keys that make those objects readable."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


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
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    DELETED = "deleted", "Deleted"


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

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"job {self.id} ({self.status})"

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


class ResultsEmail(models.Model):
    """An address a job holder asked us to send their results link to.

    Kept only while the results exist: erase_job (delete now, withdrawal, retention purge, data
    rights erasure) deletes it together with the portraits.
    """

    job = models.OneToOneField(PortraitJob, on_delete=models.CASCADE, related_name="results_email")
    address = models.EmailField(max_length=254)
    requested_at = models.DateTimeField(auto_now_add=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    sends = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return f"results e-mail for job {self.job_id}"
