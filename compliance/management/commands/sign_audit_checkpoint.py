"""`manage.py sign_audit_checkpoint`: sign and publish the audit chain's head now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from compliance.audit import record_event
from compliance.checkpoints import sign_checkpoint
from compliance.models import CheckpointReason


class Command(BaseCommand):
    help = "Sign the audit chain's current head and publish it (storage object, DPO mail, public page)."

    def handle(self, *args: Any, **options: Any) -> None:
        checkpoint = sign_checkpoint(reason=CheckpointReason.MANUAL)
        record_event(
            "audit.checkpoint_signed",
            actor="command",
            object_type="audit_checkpoint",
            object_id=str(checkpoint.pk),
            data={"sequence": checkpoint.sequence, "head_hash": checkpoint.head_hash},
        )
        self.stdout.write(f"Signed checkpoint #{checkpoint.sequence} {checkpoint.head_hash}.")
