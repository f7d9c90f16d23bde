"""Template filters that turn internal names into words people read (certificates, receipts)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template

register = template.Library()

# Names whose plain form is not just the words of the identifier.
SPECIAL = {
    "data_keys": "Encryption keys",
    "object_storage": "Object storage (encrypted files)",
    "task_queue": "Task queue",
    "dsar": "Data rights requests",
    "subprocessors": "Sub-processors",
    "dpa_signatures": "DPA signatures",
    "two_factor_devices": "Two-factor devices",
    "results_email_addresses": "Results e-mail addresses (and the links sent to them)",
    # Reasons an erasure happened.
    "dsar_erasure": "Erasure request (data rights)",
    "subject_erasure": "Erasure request (data rights)",
    "holder_request": "Deleted on request",
    "owner_request": "Deleted by the account holder",
    "consent_withdrawn": "Consent withdrawn",
    "account_deletion": "Account deleted",
    "member_removed": "Removed from the organisation",
    "organisation_deleted": "Organisation deleted",
    "retention_expired": "Retention period ended",
}


@register.filter
def plain_words(value: Any) -> str:
    """'storage_objects' -> 'Storage objects'; a list becomes a comma-separated list of those."""
    if isinstance(value, (list, tuple)) or (isinstance(value, Iterable) and not isinstance(value, str)):
        return ", ".join(plain_words(item) for item in value)
    text = str(value)
    if text in SPECIAL:
        return SPECIAL[text]
    if " " in text.strip():
        return text  # already words written for people (e.g. "not sent: no privacy contact")
    words = text.replace("_", " ").replace("-", " ").replace(".", " ").split()
    if not words:
        return ""
    sentence = " ".join(words)
    return sentence[0].upper() + sentence[1:]
