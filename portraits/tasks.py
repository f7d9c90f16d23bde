"""Scheduled housekeeping of the portraits app. Thin: each calls one service."""

from __future__ import annotations

from celery import shared_task

from portraits import services, sweeper


@shared_task(name="portraits.destroy_stale_originals", ignore_result=True)
def destroy_stale_originals() -> int:
    # The same round every process's timer runs; beat adds one more runner, not a dependency.
    report = sweeper.run_deadman_round()
    return report.originals_destroyed + report.orphan_objects_deleted


@shared_task(name="portraits.purge_expired_results", ignore_result=True)
def purge_expired_results() -> int:
    return services.purge_expired_results()


@shared_task(name="portraits.delete_expired_purchase_records", ignore_result=True)
def delete_expired_purchase_records() -> dict[str, int]:
    from portraits.payments.services import delete_expired_purchase_records as delete

    return delete()
