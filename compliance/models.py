"""Compliance state: consent documents and records, the hash-chained audit log."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from django.conf import settings
from django.db import models


class ConsentKind(models.TextChoices):
    BIOMETRIC = "biometric", "Biometric processing"
    TERMS = "terms", "Terms of service"
    DPA = "dpa", "Data processing agreement"


class ConsentDocument(models.Model):
    """One version of a consent text. Never edited once saved: a change is a new version."""

    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    text = models.TextField()
    sha256 = models.CharField(max_length=64, editable=False)
    effective_at = models.DateTimeField()
    jurisdiction_notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "version"], name="consent_document_kind_version")]
        ordering = ["kind", "-version"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.version}"

    @staticmethod
    def hash_text(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.pop("_allow_update", False):
            raise ValueError("Consent documents are immutable; publish a new version instead.")
        self.sha256 = self.hash_text(self.text)
        super().save(*args, **kwargs)


class ConsentSubjectType(models.TextChoices):
    ANONYMOUS_JOB = "anonymous_job", "Anonymous job"
    USER = "user", "User"
    MEMBER = "member", "Organisation member"


class ConsentAction(models.TextChoices):
    GIVEN = "given", "Given"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ConsentRecord(models.Model):
    """An immutable fact: a subject gave (or withdrew) consent to one document version."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    action = models.CharField(max_length=10, choices=ConsentAction.choices, default=ConsentAction.GIVEN)
    subject_type = models.CharField(max_length=20, choices=ConsentSubjectType.choices)
    subject_id = models.CharField(max_length=64, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    job_id = models.UUIDField(null=True, blank=True, db_index=True)
    document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="records")
    document_kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    document_version = models.PositiveIntegerField()
    document_sha256 = models.CharField(max_length=64)
    method = models.CharField(max_length=40, default="checkbox+typed-name")
    signature_name = models.CharField(max_length=200, blank=True)
    ip_truncated = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    purpose = models.CharField(max_length=300)
    jurisdiction_basis = models.CharField(max_length=300)
    withdraws = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="withdrawals"
    )
    recorded_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-recorded_at"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding and not kwargs.pop("_allow_update", False):
            raise ValueError("Consent records are immutable; withdrawal is a new record.")
        super().save(*args, **kwargs)


class AuditEvent(models.Model):
    """Append-only, hash-chained: hash = sha256(previous hash + canonical JSON of the event)."""

    sequence = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField(db_index=True)
    actor = models.CharField(max_length=100)
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    data = models.JSONField(default=dict, blank=True)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["sequence"]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.object_type}:{self.object_id}"


class AuditChainHead(models.Model):
    """A single row locked while appending, so concurrent writers cannot fork the chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    last_sequence = models.BigIntegerField(default=0)
