"""`manage.py redact_audit_event SEQUENCE --reason R --actor A`: the documented redaction path."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from compliance.audit import REDACTION_REASONS, redact_event
from compliance.models import AuditEvent


class Command(BaseCommand):
    help = "Blank the data of one audit event (the chain stays verifiable; the redaction is itself logged)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("sequence", type=int)
        parser.add_argument("--reason", required=True, choices=sorted(REDACTION_REASONS))
        parser.add_argument("--actor", required=True, help="Who decided, e.g. staff:12 or dpo.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            event = redact_event(options["sequence"], reason=options["reason"], actor=options["actor"])
        except (ValueError, AuditEvent.DoesNotExist) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Event #{event.sequence} redacted; the redaction is recorded in the log.")
