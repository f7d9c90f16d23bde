"""Accounts, organisations and memberships.

Accounts are optional: the anonymous flow needs none. Organisations commission headshots for
their staff; every member consents and uploads for themself.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

if TYPE_CHECKING:
    from gpu_worker.schemas import Style


class User(AbstractUser):
    """A person with an account. Accounts are optional: anonymous jobs need none."""

    email = models.EmailField("email address", unique=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)

    REQUIRED_FIELDS = ["email"]


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
    slug = models.SlugField(max_length=80, unique=True)
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
        from gpu_worker.schemas import OutputFormat as WorkerFormat
        from gpu_worker.schemas import Style

        attire = self.attire_prompt.strip()
        return Style(
            slug=f"org-{self.slug}",
            name=f"{self.name} brand style",
            description=f"Brand style of {self.name}",
            backdrop_colours=tuple(self.backdrop_colours or default_backdrop_colours()),
            prompt=(
                f"professional corporate headshot, {attire}, plain studio backdrop, soft key light, "
                "sharp focus, natural skin"
            ),
            negative_prompt="cartoon, painting, distorted face, extra limbs, text, watermark",
            aspect=self.aspect,
            output_format=WorkerFormat(self.output_format),
            output_long_side=self.output_long_side,
        )


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
