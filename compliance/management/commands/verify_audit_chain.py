"""`manage.py verify_audit_chain`: recompute the keyed chain, check the signed checkpoints
published in storage (and any given with --checkpoint, e.g. from the DPO's mailbox); exit 1 at
the first problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from compliance import checkpoints
from compliance.audit import verify_chain


class Command(BaseCommand):
    help = "Verify the audit log's keyed hash chain against the published signed checkpoints."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            metavar="FILE",
            help="A checkpoint document kept outside our systems (the DPO's mail); may repeat.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        published = checkpoints.read_published()
        for name in options["checkpoint"]:
            try:
                published.append(checkpoints.parse_published(Path(name).read_text(), source=name))
            except (OSError, ValueError) as error:
                raise CommandError(f"{name}: {error}") from None
        report = verify_chain(published=published)
        if not report.ok:
            where = (
                f"event #{report.first_broken_sequence}" if report.first_broken_sequence else "the chain head"
            )
            raise CommandError(
                f"Audit chain broken at {where}: {report.reason} ({report.events_checked} checked)."
            )
        for warning in report.warnings:
            self.stderr.write(self.style.WARNING(f"Warning: {warning}."))
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit chain intact: {report.events_checked} events verified, "
                f"{report.checkpoints_checked} signed checkpoints matched."
            )
        )
