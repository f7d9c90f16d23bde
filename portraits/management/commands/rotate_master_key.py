"""Re-wrap every live data key under the current master key (the first in PROPORTRAIT_MASTER_KEYS).

Rotation: put the new key first, keep the old one after it, run this command, then remove the
old key from the environment. Destroyed (crypto-shredded) keys stay destroyed.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from compliance.audit import record_event
from portraits import crypto
from portraits.models import DataKey


class Command(BaseCommand):
    help = "Re-wrap every live data key under the current master key."

    def handle(self, *args: Any, **options: Any) -> None:
        current, _ = crypto.master_keys()
        moved = crypto.rewrap_data_keys()
        remaining = DataKey.objects.filter(destroyed_at__isnull=True).exclude(master_key_id=current).count()
        record_event(
            "keys.rewrapped",
            actor="system:rotate_master_key",
            object_type="master_key",
            object_id=current,
            data={"rewrapped": moved, "remaining_under_other_keys": remaining},
        )
        self.stdout.write(
            f"re-wrapped {moved} data keys under master key {current!r}; {remaining} remain elsewhere"
        )
