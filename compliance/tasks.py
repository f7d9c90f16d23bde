"""Celery tasks: thin, load by id and call a service."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from compliance import services
from compliance.services import housekeeping


@shared_task(name="compliance.fulfil_request")
def fulfil_request(request_id: str) -> None:
    services.fulfil_request(request_id)


@shared_task(name="compliance.run_daily_housekeeping")
def run_daily_housekeeping() -> dict[str, Any]:
    return housekeeping.run_daily_housekeeping()


@shared_task(name="compliance.sign_audit_checkpoint")
def sign_audit_checkpoint() -> int | None:
    from compliance.checkpoints import sign_if_advanced

    checkpoint = sign_if_advanced()
    return checkpoint.sequence if checkpoint else None


@shared_task(name="compliance.apply_subprocessor_changes")
def apply_subprocessor_changes() -> int:
    return services.apply_due_changes()
