"""`manage.py verify_audit_chain`: recompute the audit hash chain; exit 1 at the first broken link."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from compliance.audit import verify_chain


class Command(BaseCommand):
    help = "Verify the audit log hash chain and report the first broken link."

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        if not report.ok:
            where = (
                f"event #{report.first_broken_sequence}" if report.first_broken_sequence else "the chain head"
            )
            raise CommandError(
                f"Audit chain broken at {where}: {report.reason} ({report.events_checked} checked)."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.events_checked} events verified."))
