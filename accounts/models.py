"""Accounts, organisations and memberships.

Accounts are optional: the anonymous flow needs none. Organisations commission headshots for
their staff; every member consents and uploads for themself.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from proportrait.addresses import normalise_email

if TYPE_CHECKING:
    from gpu_worker.schemas import Style


def _with_email_key(update_fields: Any) -> Any:
    if update_fields is not None and "email" in update_fields:
        return {*update_fields, "email_key"}
    return update_fields


class User(AbstractUser):
    """A person with an account. Accounts are optional: anonymous jobs need none."""

    email = models.EmailField("email address", unique=True)
    # The one form every lookup by address compares exactly (proportrait.addresses): never a
    # database case-insensitive match, whose folding differs between stacks.
    # null, not "": a unique column must allow several rows without a key (see 0005_email_key).
    email_key = models.CharField(max_length=400, unique=True, null=True, editable=False)  # noqa: DJ001
    email_verified_at = models.DateTimeField(null=True, blank=True)

    REQUIRED_FIELDS = ["email"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email_key = normalise_email(self.email) or None
        kwargs["update_fields"] = _with_email_key(kwargs.get("update_fields"))
        super().save(*args, **kwargs)


_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def validate_backdrop_colours(value: object) -> None:
    if not isinstance(value, list) or not 1 <= len(value) <= 4:
        raise ValidationError("Give between one and four backdrop colours.")
    for colour in value:
        if not isinstance(colour, str) or not _COLOUR.match(colour):
            raise ValidationError(f"{colour!r} is not a colour like #1f5f8b.")


def default_backdrop_colours() -> list[str]:
    return ["#d9dee5", "#8a94a3"]


class Aspect(models.TextChoices):
    PORTRAIT = "4:5", "Portrait 4:5"
    SQUARE = "1:1", "Square 1:1"


class OutputFormat(models.TextChoices):
    # Values match gpu_worker.schemas.OutputFormat.
    JPEG = "jpeg", "JPEG"
    PNG = "png", "PNG"
    WEBP = "webp", "WebP"


class Organisation(models.Model):
    """A company that commissions headshots for its staff: seats, brand style and retention policy."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(
        max_length=60,
        unique=True,
        validators=[RegexValidator(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", "Lowercase letters, digits and hyphens.")],
    )
    seats = models.PositiveIntegerField(default=10, validators=[MinValueValidator(1)])

    # Brand style: used by every member's job (see brand_style()).
    backdrop_colours = models.JSONField(
        default=default_backdrop_colours, validators=[validate_backdrop_colours]
    )
    attire_prompt = models.CharField(
        max_length=300,
        default="dark business suit, white shirt",
        help_text="What people wear in the portrait.",
    )
    aspect = models.CharField(max_length=4, choices=Aspect.choices, default=Aspect.PORTRAIT)
    output_format = models.CharField(max_length=4, choices=OutputFormat.choices, default=OutputFormat.JPEG)
    output_long_side = models.PositiveIntegerField(
        default=1280, validators=[MinValueValidator(512), MaxValueValidator(4096)]
    )

    # Retention policy, enforced by setting expires_at on member jobs (and the scheduled purge).
    approved_retention_months = models.PositiveIntegerField(
        default=12, validators=[MinValueValidator(1), MaxValueValidator(36)]
    )
    unapproved_retention_days = models.PositiveIntegerField(
        default=30, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def brand_style(self) -> Style:
        """The organisation's brand style as the generation pipeline's Style."""
        data = {
            "slug": f"org-{self.slug}"[:80],
            "name": f"{self.name} brand style",
            "description": f"Brand style of {self.name}",
            "backdrop_colours": list(self.backdrop_colours or default_backdrop_colours()),
            "prompt": (
                f"professional corporate headshot, {self.attire_prompt.strip()}, plain studio backdrop, "
                "soft key light, sharp focus, natural skin"
            ),
            "negative_prompt": "cartoon, painting, distorted face, extra limbs, text, watermark",
            "aspect": str(self.aspect),
            "output_format": str(self.output_format),
            "output_long_side": int(self.output_long_side),
        }
        # Validated like every built-in style: a bad brand style fails here, not in the worker.
        from gpu_worker.styles import style_from_dict

        return style_from_dict(data)


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"


class MemberStatus(models.TextChoices):
    """Where a member is in the headshot journey (invited people are Invitation rows)."""

    JOINED = "joined", "Joined"
    CONSENTED = "consented", "Consented"
    GENERATED = "generated", "Generated"
    SUBMITTED = "submitted", "Submitted"
    REDO = "redo", "Redo requested"
    APPROVED = "approved", "Approved"


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    status = models.CharField(max_length=12, choices=MemberStatus.choices, default=MemberStatus.JOINED)
    created_at = models.DateTimeField(auto_now_add=True)
    status_changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="membership_user_organisation"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.organisation_id} ({self.role})"

    @property
    def is_admin(self) -> bool:
        """Owners and admins manage the organisation."""
        return self.role in {Role.OWNER, Role.ADMIN}


class Invitation(models.Model):
    """An emailed, expiring, single-use link to join an organisation. Only the token's hash is stored."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    email_key = models.CharField(max_length=400, db_index=True, default="", editable=False)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_sent_at = models.DateTimeField()
    send_count = models.PositiveSmallIntegerField(default=1)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"invitation {self.pk} to {self.organisation_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email_key = normalise_email(self.email)
        kwargs["update_fields"] = _with_email_key(kwargs.get("update_fields"))
        super().save(*args, **kwargs)

    def is_open(self, now: datetime) -> bool:
        """Neither used, revoked nor expired."""
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > now


class SubmissionStatus(models.TextChoices):
    GENERATING = "generating", "Generating"
    GENERATED = "generated", "Generated"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    REDO = "redo", "Redo requested"
    FAILED = "failed", "Failed"


class TeamSubmission(models.Model):
    """One member's job made for their organisation, their chosen favourite and the admin's review."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="submissions")
    job = models.OneToOneField(
        "portraits.PortraitJob", on_delete=models.CASCADE, related_name="team_submission"
    )
    favourite = models.ForeignKey(
        "portraits.Portrait", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=12, choices=SubmissionStatus.choices, default=SubmissionStatus.GENERATING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    redo_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"submission {self.pk} ({self.status})"


class OrganisationApiToken(models.Model):
    """A bearer token for HR integrations, scoped to one organisation. Stored as a SHA-256 hash."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    # First characters, shown so admins can tell tokens apart; not enough to use one.
    prefix = models.CharField(max_length=12)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.organisation_id})"


class SubscriptionStatus(models.TextChoices):
    """Stripe's subscription statuses, plus CHECKOUT while the admin is on Stripe's checkout page."""

    CHECKOUT = "checkout", "Waiting for checkout"
    INCOMPLETE = "incomplete", "First payment pending"
    INCOMPLETE_EXPIRED = "incomplete_expired", "First payment failed"
    TRIALING = "trialing", "Trial"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Payment overdue"
    UNPAID = "unpaid", "Unpaid"
    PAUSED = "paused", "Paused"
    CANCELED = "canceled", "Cancelled"


class TeamSubscription(models.Model):
    """An organisation's team plan: a Stripe subscription whose quantity is the number of seats.

    Holds Stripe ids and counts only; the billing e-mail, cards and invoices stay with Stripe.
    The state follows Stripe's subscription and invoice webhooks (accounts.billing).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="subscription")
    status = models.CharField(
        max_length=20, choices=SubscriptionStatus.choices, default=SubscriptionStatus.CHECKOUT
    )
    seats = models.PositiveIntegerField(default=0)
    stripe_customer_id = models.CharField(max_length=255, blank=True)
    stripe_subscription_id = models.CharField(max_length=255, blank=True, db_index=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    last_invoice_status = models.CharField(max_length=20, blank=True)
    last_invoice_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"team plan of {self.organisation_id} ({self.status}, {self.seats} seats)"

    @property
    def grants_seats(self) -> bool:
        return self.status in {
            SubscriptionStatus.ACTIVE,
            SubscriptionStatus.TRIALING,
            SubscriptionStatus.PAST_DUE,
        }
