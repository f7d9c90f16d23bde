"""Run one dead-man round by hand or from cron: stale originals, orphaned objects, waiting jobs."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from portraits.sweeper import run_deadman_round


class Command(BaseCommand):
    help = "Destroy originals past the dead-man limit, delete orphaned objects, republish waiting jobs."

    def handle(self, *args: Any, **options: Any) -> None:
        report = run_deadman_round()
        self.stdout.write(
            f"originals destroyed: {report.originals_destroyed}; orphaned objects deleted: "
            f"{report.orphan_objects_deleted}; jobs published: {report.jobs_published}; "
            f"errors: {report.errors}"
        )
        if report.errors:
            raise SystemExit(1)
