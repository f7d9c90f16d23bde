from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person with an account. Accounts are optional: anonymous jobs need none."""

    email = models.EmailField("email address", unique=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)

    REQUIRED_FIELDS = ["email"]
