"""The optional "e-mail me a link to my results": the address is kept only while the results exist.

One address per job, a few sends at most (so the form cannot be used to mail strangers in bulk),
and the link itself carries the job id signed with its expiry: opening it lets that browser see
the job, until the results are deleted.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from compliance.audit import record_event
from portraits.models import JobStatus, PortraitJob, ResultsEmail
from proportrait.emails import send_email

LINK_SALT = "portraits.results-link"
MAX_SENDS_PER_JOB = 3


class ResultsEmailRefused(Exception):
    """The link cannot be sent; the message says why, in words for the person."""


def results_link(job: PortraitJob) -> str:
    """An absolute link that opens this job's results page in any browser until they expire."""
    value = signing.dumps({"job": str(job.id)}, salt=LINK_SALT, compress=False)
    return settings.SITE_URL + reverse("portraits:open_results", args=[value])


def job_from_results_link(value: str) -> PortraitJob | None:
    """The job a results link points at, if the link is genuine and the results still exist."""
    try:
        data = signing.loads(value, salt=LINK_SALT)
    except signing.BadSignature:
        return None
    job = PortraitJob.objects.filter(id=data.get("job")).first()
    if job is None or job.status != JobStatus.DONE or job.expires_at <= timezone.now():
        return None
    return job


def send_results_link(job: PortraitJob, address: str) -> ResultsEmail:
    """Store the address (replacing an earlier one) and e-mail it the results link after commit.

    Raises ResultsEmailRefused when the results are not ready or the job has used its sends.
    """
    # 1. Checks that store nothing.
    if job.status != JobStatus.DONE:
        raise ResultsEmailRefused("Your portraits are not ready yet, or they have been deleted.")
    with transaction.atomic():
        # 2. One row per job, locked so two clicks cannot both pass the send limit.
        entry, _ = ResultsEmail.objects.select_for_update().get_or_create(
            job=job, defaults={"address": address}
        )
        if entry.sends >= MAX_SENDS_PER_JOB:
            raise ResultsEmailRefused(
                f"We have already sent this link {MAX_SENDS_PER_JOB} times. Please use one of those e-mails."
            )
        entry.address = address
        entry.sends += 1
        entry.last_sent_at = timezone.now()
        entry.save(update_fields=["address", "sends", "last_sent_at"])
        record_event(
            "job.results_link_sent",
            actor="job_holder",
            object_type="portrait_job",
            object_id=str(job.id),
            data={"sends": entry.sends},  # never the address itself
        )
        # 3. The mail goes once the row is committed.
        send_email(
            "results-link",
            [address],
            {"link": results_link(job), "expires_at": job.expires_at, "count": job.portraits.count()},
        )
    return entry


def forget_results_email(job: PortraitJob | Any) -> int:
    """Erase the stored address of a job (called whenever its results are erased)."""
    deleted, _ = ResultsEmail.objects.filter(job_id=job.pk).delete()
    return int(deleted)
