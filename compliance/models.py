"""Compliance state: consent documents and records, the hash-chained audit log."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta
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
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="consent_document_kind_version")
        ]
        ordering = ["kind", "-version"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.version}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.pop("_allow_update", False):
            raise ValueError("Consent documents are immutable; publish a new version instead.")
        self.sha256 = self.hash_text(self.text)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("Consent documents are kept for as long as any record refers to them.")

    @staticmethod
    def hash_text(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
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

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.document_kind} v{self.document_version}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding and not kwargs.pop("_allow_update", False):
            raise ValueError("Consent records are immutable; withdrawal is a new record.")
        super().save(*args, **kwargs)


class AuditEvent(models.Model):
    """Append-only, keyed chain: hash = HMAC-SHA256(key[key_id], previous hash + canonical event).

    The canonical event carries the SHA-256 of `data` rather than the data, so the documented
    redaction path (compliance.audit.redact_event) can blank a field without breaking the chain.
    On PostgreSQL a trigger refuses UPDATE and DELETE outside that path and retention pruning.
    """

    sequence = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField(db_index=True)
    actor = models.CharField(max_length=100)
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    data = models.JSONField(default=dict, blank=True)
    data_sha256 = models.CharField(max_length=64, default="")
    key_id = models.CharField(max_length=32, default="")
    redacted_at = models.DateTimeField(null=True, blank=True)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["sequence"]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Append-only through the ORM; tampering below the ORM is what verify_chain() catches.
        if not self._state.adding:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("Audit events are append-only; see compliance.audit.prune_events.")


class AuditChainHead(models.Model):
    """A single row locked while appending, so concurrent writers cannot fork the chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    last_sequence = models.BigIntegerField(default=0)
    # After pruning events past their retention, verification starts from this anchor.
    anchor_hash = models.CharField(max_length=64, default="0" * 64)
    anchor_sequence = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"audit chain head #{self.last_sequence}"


class CheckpointReason(models.TextChoices):
    INTERVAL = "interval", "Scheduled"
    CERTIFICATE = "certificate", "Deletion certificate"
    MANUAL = "manual", "Requested by staff"


class AuditCheckpoint(models.Model):
    """A signed statement "the chain had this hash at this sequence", published outside the database.

    `payload` is the exact signed text (canonical JSON); `signature` is Ed25519 over it, base64.
    The copy in storage (`storage_key`) and the DPO's mail are what verification trusts; this row
    is a convenience that the public page reads.
    """

    sequence = models.BigIntegerField(db_index=True)
    head_hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    key_id = models.CharField(max_length=32)
    payload = models.TextField()
    signature = models.CharField(max_length=100)
    reason = models.CharField(max_length=20, choices=CheckpointReason.choices)
    storage_key = models.CharField(max_length=200, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    mailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sequence", "-signed_at"]

    def __str__(self) -> str:
        return f"checkpoint #{self.sequence} {self.head_hash[:12]}"


# --- Data subject requests (GDPR Arts. 12, 15-22; CCPA 11 CCR 7020-7028).


class DsarType(models.TextChoices):
    ACCESS = "access", "Access (a copy of my data)"
    ERASURE = "erasure", "Erasure (delete my data)"
    PORTABILITY = "portability", "Portability (my data in a machine-readable file)"
    RECTIFICATION = "rectification", "Rectification (correct my data)"
    OBJECTION = "objection", "Objection (stop a processing)"


#: Types fulfilled by software; the others are recorded for a person to handle.
AUTOMATIC_DSAR_TYPES = frozenset({DsarType.ACCESS, DsarType.ERASURE, DsarType.PORTABILITY})


class DsarStatus(models.TextChoices):
    UNVERIFIED = "unverified", "Unverified"
    VERIFIED = "verified", "Verified"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    DENIED = "denied", "Denied"


class Jurisdiction(models.TextChoices):
    """Where the requester lives decides the deadline; unknown means every deadline applies."""

    UNKNOWN = "unknown", "Not stated (the strictest deadline applies)"
    EU_UK = "eu_uk", "European Union, EEA or United Kingdom (GDPR)"
    CALIFORNIA = "california", "California (CCPA/CPRA)"
    OTHER_US = "other_us", "Elsewhere in the United States"
    OTHER = "other", "Elsewhere"


class DsarHold(models.TextChoices):
    """Why a verified automatic request waits instead of being fulfilled."""

    NONE = "", "Not held"
    #: The address belongs to an account: its holder must confirm by signing in (with the
    #: second factor where the account has one). Control of the mailbox alone is not enough.
    ACCOUNT_SIGN_IN = "account_sign_in", "Waiting for the account holder to sign in"
    #: Erasing the account would leave an organisation without an owner: staff review.
    SOLE_OWNER = "sole_owner", "Staff review: the account is an organisation's only owner"


class DataSubjectRequest(models.Model):
    """One rights request. The email is the requester's contact until the request is closed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    request_type = models.CharField(max_length=20, choices=DsarType.choices)
    status = models.CharField(
        max_length=12, choices=DsarStatus.choices, default=DsarStatus.UNVERIFIED, db_index=True
    )
    email = models.EmailField(blank=True)
    # Kept after the email is redacted, so duplicates and audit entries can still be linked.
    email_sha256 = models.CharField(max_length=64, db_index=True)
    jurisdiction = models.CharField(max_length=12, choices=Jurisdiction.choices, default=Jurisdiction.UNKNOWN)
    details = models.TextField(blank=True)
    # The job whose bearer token the requester gave, resolved on receipt. The token itself is
    # never stored: it would let anyone who reads this row (staff, a backup) open the job.
    proven_job_id = models.CharField(max_length=64, blank=True)

    received_at = models.DateTimeField(db_index=True)
    due_at = models.DateTimeField(db_index=True)
    extended_at = models.DateTimeField(null=True, blank=True)
    extension_reason = models.TextField(blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    denial_reason = models.TextField(blank=True)
    resolution_note = models.TextField(blank=True)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )

    # Verification: only a keyed hash of the code is stored.
    code_hash = models.CharField(max_length=64, blank=True)
    code_expires_at = models.DateTimeField(null=True, blank=True)
    code_attempts = models.PositiveSmallIntegerField(default=0)
    code_sent_at = models.DateTimeField(null=True, blank=True)
    codes_sent = models.PositiveSmallIntegerField(default=0)

    # What the verified identity matched (ids only): {"user_id": 3, "job_ids": [...]}.
    matched_subject = models.JSONField(default=dict, blank=True)
    # When the address belongs to an account, the signed-in holder confirms the request.
    hold = models.CharField(max_length=20, choices=DsarHold.choices, default=DsarHold.NONE, blank=True)
    account_confirmed_at = models.DateTimeField(null=True, blank=True)
    certificate = models.ForeignKey(
        "DeletionCertificate", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["due_at"]
        verbose_name = "data subject request"

    def __str__(self) -> str:
        return f"{self.get_request_type_display().split(' (')[0]} request {self.reference}"

    @property
    def reference(self) -> str:
        return f"DSAR-{str(self.id)[:8].upper()}"

    @property
    def is_open(self) -> bool:
        return self.status not in {DsarStatus.COMPLETED, DsarStatus.DENIED}

    @property
    def is_automatic(self) -> bool:
        return self.request_type in AUTOMATIC_DSAR_TYPES


class DataExport(models.Model):
    """An encrypted ZIP for an access or portability request, readable only through its link.

    The link carries a random lookup token (only its SHA-256 is stored), never key material: URLs
    end up in access logs. The file's data key is kept wrapped and wiped when the export expires
    or is erased, so nothing readable is left, even in storage backups.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    request = models.ForeignKey(
        DataSubjectRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="exports"
    )
    storage_key = models.CharField(max_length=200)
    token_sha256 = models.CharField(max_length=64, db_index=True)
    data_key = models.ForeignKey(
        "portraits.DataKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    size_bytes = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    downloaded_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"export {self.id}"


# --- Erasure evidence.


class DeletionCertificate(models.Model):
    """What was erased, how and when: categories and counts, never the data itself."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=100, help_text="The request or job reference.")
    reason = models.CharField(max_length=60)
    scope = models.JSONField(default=dict, help_text="Per app: categories and counts erased.")
    systems = models.JSONField(default=list)
    method = models.TextField()
    remains = models.TextField()
    backups = models.TextField()
    failures = models.JSONField(default=list, blank=True)
    started_at = models.DateTimeField()
    completed_at = models.DateTimeField()
    audit_hashes = models.JSONField(default=list)
    # Evidence: the erasure.completed event and a signed checkpoint that covers it.
    event_hash = models.CharField(max_length=64, blank=True, db_index=True)
    event_sequence = models.BigIntegerField(null=True, blank=True)
    checkpoint = models.ForeignKey(
        AuditCheckpoint, null=True, blank=True, on_delete=models.PROTECT, related_name="certificates"
    )

    class Meta:
        ordering = ["-completed_at"]

    def __str__(self) -> str:
        return f"Deletion certificate {self.reference}"

    @property
    def is_complete(self) -> bool:
        return not self.failures

    @property
    def items_erased(self) -> int:
        """Everything the erasers removed, all categories together."""
        erased = (self.scope or {}).get("erased", {})
        return sum(int(count) for categories in erased.values() for count in categories.values())

    @property
    def found_nothing(self) -> bool:
        """No app held anything about the subject: the certificate must say so, not "erased"."""
        return self.is_complete and self.items_erased == 0


# --- Sub-processors (GDPR Art. 28(2),(4); BIPA 15(d) disclosure register).


class SubProcessor(models.Model):
    name = models.CharField(max_length=200)
    purpose = models.CharField(max_length=300)
    location = models.CharField(max_length=200)
    transfer_safeguard = models.CharField(max_length=300)
    data_categories = models.CharField(max_length=300, blank=True)
    privacy_contact_email = models.EmailField(blank=True)
    since = models.DateField()
    until = models.DateField(null=True, blank=True, help_text="Set when we stop using it.")
    # Recipients of photos are named in the biometric notice: a change there is a new notice.
    receives_photos = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = "sub-processor"

    def __str__(self) -> str:
        return self.name


class SubprocessorRegisterVersion(models.Model):
    """A published snapshot of the register. Organisations are notified of each one."""

    version = models.PositiveIntegerField(unique=True)
    published_at = models.DateTimeField()
    change_summary = models.TextField()
    entries = models.JSONField(default=list)
    sha256 = models.CharField(max_length=64)
    objection_deadline = models.DateTimeField()

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"Sub-processor register v{self.version}"


class SubprocessorChangeAction(models.TextChoices):
    ADD = "add", "Add a sub-processor"
    UPDATE = "update", "Change a sub-processor"
    RETIRE = "retire", "Stop using a sub-processor"


class SubprocessorChangeStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled (notice given)"
    APPLIED = "applied", "In effect"
    CANCELLED = "cancelled", "Cancelled"


class SubprocessorChange(models.Model):
    """A change to the register, announced at least the notice period before it takes effect
    (GDPR Art. 28(2),(4)). Written only through compliance.services.subprocessors."""

    action = models.CharField(max_length=10, choices=SubprocessorChangeAction.choices)
    subprocessor = models.ForeignKey(
        SubProcessor, null=True, blank=True, on_delete=models.PROTECT, related_name="changes"
    )
    values = models.JSONField(default=dict, blank=True)
    change_summary = models.TextField()
    scheduled_at = models.DateTimeField()
    scheduled_by = models.CharField(max_length=100)
    effective_at = models.DateTimeField(db_index=True)
    status = models.CharField(
        max_length=10, choices=SubprocessorChangeStatus.choices, default=SubprocessorChangeStatus.SCHEDULED
    )
    applied_at = models.DateTimeField(null=True, blank=True)
    cancelled_reason = models.TextField(blank=True)
    register_version = models.ForeignKey(
        SubprocessorRegisterVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="changes"
    )

    class Meta:
        ordering = ["effective_at"]

    def __str__(self) -> str:
        name = self.values.get("name") or (self.subprocessor.name if self.subprocessor else "?")
        return f"{self.get_action_display()}: {name} from {self.effective_at:%Y-%m-%d}"


class SubprocessorChangeNotice(models.Model):
    register_version = models.ForeignKey(
        SubprocessorRegisterVersion, null=True, blank=True, on_delete=models.PROTECT
    )
    change = models.ForeignKey(
        SubprocessorChange, null=True, blank=True, on_delete=models.PROTECT, related_name="notices"
    )
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE)
    recipients_count = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["register_version", "organisation"], name="one_notice_per_version"
            ),
            models.UniqueConstraint(fields=["change", "organisation"], name="one_notice_per_change"),
        ]

    def __str__(self) -> str:
        return f"notice of register v{self.register_version_id} to {self.organisation_id}"


class SubprocessorObjection(models.Model):
    register_version = models.ForeignKey(
        SubprocessorRegisterVersion, null=True, blank=True, on_delete=models.PROTECT
    )
    change = models.ForeignKey(
        SubprocessorChange, null=True, blank=True, on_delete=models.PROTECT, related_name="objections"
    )
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE)
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    reason = models.TextField()
    raised_at = models.DateTimeField()
    resolution = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"objection of {self.organisation_id} to register v{self.register_version_id}"


class SubprocessorErasureNotice(models.Model):
    """GDPR Art. 19 / CCPA 7022: each recipient is told about an erasure."""

    certificate = models.ForeignKey(DeletionCertificate, on_delete=models.CASCADE, related_name="notices")
    subprocessor_name = models.CharField(max_length=200)
    method = models.CharField(max_length=100)
    recorded_at = models.DateTimeField()
    # The outcome of the e-mail, when one could be sent: set after the send returns.
    sent_at = models.DateTimeField(null=True, blank=True)
    send_result = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.subprocessor_name}: {self.method}"


# --- Records of processing (GDPR Art. 30).


class ProcessingActivity(models.Model):
    """The current text of one activity; every version is kept in ProcessingActivityVersion.

    Written only through compliance.services.registers.save_processing_activity."""

    name = models.CharField(max_length=200)
    role = models.CharField(max_length=20, choices=[("controller", "Controller"), ("processor", "Processor")])
    purpose = models.TextField()
    legal_basis = models.TextField()
    data_subjects = models.TextField()
    data_categories = models.TextField()
    recipients = models.TextField()
    transfers = models.TextField()
    retention = models.TextField()
    security_measures = models.TextField()
    version = models.PositiveIntegerField(default=1)
    retired_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "processing activities"

    def __str__(self) -> str:
        return self.name


class ProcessingActivityVersion(models.Model):
    """One historic version of an activity, never changed (GDPR Art. 30 records over time)."""

    activity = models.ForeignKey(ProcessingActivity, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    values = models.JSONField()
    changed_at = models.DateTimeField()
    changed_by = models.CharField(max_length=100)
    reason = models.TextField()

    class Meta:
        ordering = ["activity", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "version"], name="processing_activity_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.activity_id} v{self.version}"


# --- Breach register (GDPR Arts. 33-34, Colorado incident response).


class BreachStatus(models.TextChoices):
    OPEN = "open", "Open"
    CONTAINED = "contained", "Contained"
    CLOSED = "closed", "Closed"


class BreachIncident(models.Model):
    """The Art. 33(5) documentation of one breach. Written only through compliance.services.breaches;
    every change leaves a BreachIncidentVersion and an audit event."""

    title = models.CharField(max_length=200)
    description = models.TextField()
    detected_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=BreachStatus.choices, default=BreachStatus.OPEN)
    # Art. 33(3)(a)-(d).
    nature = models.TextField(
        blank=True, help_text="What happened to which data (confidentiality, integrity, availability)."
    )
    subject_categories = models.CharField(max_length=300, blank=True)
    affected_subjects_count = models.PositiveIntegerField(
        default=0, help_text="Approximate number of people."
    )
    record_categories = models.CharField(max_length=300, blank=True)
    affected_records_count = models.PositiveIntegerField(
        default=0, help_text="Approximate number of records."
    )
    likely_consequences = models.TextField(blank=True)
    measures_taken = models.TextField(blank=True)
    measures_proposed = models.TextField(blank=True)
    jurisdictions = models.JSONField(
        default=list, blank=True, help_text="Keys of the deadline table that apply."
    )
    # When we notified, and when that was recorded: a gap is a back-dated entry, and says so.
    authority_notified_at = models.DateTimeField(null=True, blank=True)
    authority_notice_recorded_at = models.DateTimeField(null=True, blank=True)
    authority_notice_backdate_reason = models.TextField(blank=True)
    subjects_notified_at = models.DateTimeField(null=True, blank=True)
    subjects_notified_count = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)
    organisations = models.ManyToManyField(
        "accounts.Organisation", through="BreachOrganisation", blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-detected_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def notification_deadline(self) -> datetime:
        """GDPR Art. 33(1): the supervisory authority within 72 hours of becoming aware."""
        return self.detected_at + timedelta(hours=72)

    @property
    def authority_notice_backdated(self) -> bool:
        return bool(
            self.authority_notified_at
            and self.authority_notice_recorded_at
            and self.authority_notice_recorded_at - self.authority_notified_at > BACKDATE_TOLERANCE
        )


#: A notification time recorded more than this after it happened counts as back-dated.
BACKDATE_TOLERANCE = timedelta(minutes=15)


class BreachIncidentVersion(models.Model):
    """Every state the breach record has been in, with who changed it, when and why."""

    incident = models.ForeignKey(BreachIncident, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    values = models.JSONField()
    changed_at = models.DateTimeField()
    changed_by = models.CharField(max_length=100)
    reason = models.TextField()

    class Meta:
        ordering = ["incident", "-version"]
        constraints = [models.UniqueConstraint(fields=["incident", "version"], name="breach_version_once")]

    def __str__(self) -> str:
        return f"breach {self.incident_id} v{self.version}"


class BreachOrganisation(models.Model):
    incident = models.ForeignKey(BreachIncident, on_delete=models.CASCADE, related_name="affected")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE)
    affected_subjects_count = models.PositiveIntegerField(default=0)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "organisation"], name="breach_organisation_once")
        ]

    def __str__(self) -> str:
        return f"organisation {self.organisation_id} in breach {self.incident_id}"


class BreachCommunication(models.Model):
    """An Art. 34 communication sent to the people affected: how many, when, which template."""

    incident = models.ForeignKey(BreachIncident, on_delete=models.CASCADE, related_name="communications")
    template = models.CharField(max_length=80)
    recipients_count = models.PositiveIntegerField()
    sent_at = models.DateTimeField()
    sent_by = models.CharField(max_length=100)

    def __str__(self) -> str:
        return f"breach {self.incident_id}: {self.recipients_count} people told"


# --- Data processing agreements (GDPR Art. 28(3)).


class DpaAcceptance(models.Model):
    """An organisation accepted one DPA version: who (by id and role), when, which text."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="dpa_acceptances"
    )
    document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="+")
    document_version = models.PositiveIntegerField()
    document_sha256 = models.CharField(max_length=64)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    accepted_by_role = models.CharField(max_length=20)
    accepted_at = models.DateTimeField()
    ip_truncated = models.CharField(max_length=64, blank=True)
    # Annex III as it stood when accepted: later changes are shown as changes, never rewritten in.
    subprocessors = models.JSONField(default=list, blank=True)
    register_version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-accepted_at"]

    def __str__(self) -> str:
        return f"DPA v{self.document_version} accepted by organisation {self.organisation_id}"
