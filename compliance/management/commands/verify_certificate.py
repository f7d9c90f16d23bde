"""`manage.py verify_certificate ID HASH`: confirm a deletion certificate against the audit log."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from compliance.checkpoints import verify_certificate


class Command(BaseCommand):
    help = "Confirm a deletion certificate (its id and event hash) against the audit log and checkpoint."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("certificate_id")
        parser.add_argument("event_hash")

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_certificate(options["certificate_id"], options["event_hash"])
        if not report.ok:
            raise CommandError(f"Certificate NOT confirmed: {report.reason}.")
        checkpoint = report.checkpoint
        assert checkpoint is not None
        self.stdout.write(
            self.style.SUCCESS(
                f"Certificate {report.certificate.pk} confirmed: event #{report.event_sequence} is in the "
                f"audit log, covered by checkpoint #{checkpoint.sequence} signed at "
                f"{checkpoint.signed_at:%Y-%m-%d %H:%M:%S} UTC with key {checkpoint.key_id}."
            )
        )
