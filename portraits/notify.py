"""The optional "e-mail me a link to my results": the address is kept only while the results exist.

One address per job, a few sends at most (so the form cannot be used to mail strangers in bulk),
and the link itself carries the job id and a keyed digest of the address it went to, signed:
opening it lets that browser see the job while the results exist *and* we still hold that
address for the job. Erasing the address (a data-rights erasure by address, or the holder
sending the link to another address) therefore also ends the e-mailed link.

The address is personal data inside the rights path: a data-rights request by address finds it
by its normalised key (proportrait.addresses, compared exactly, never a database
case-insensitive match), but knowing a mailbox does not prove who holds the job, so such a
request reaches the address and the link only, never the portraits (see
docs/privacy-design.md, "The results e-mail in the rights path").
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from compliance.audit import record_event
from portraits.models import JobStatus, PortraitJob, ResultsEmail
from proportrait.addresses import normalise_email
from proportrait.emails import send_email

LINK_SALT = "portraits.results-link"
MAX_SENDS_PER_JOB = 3


class ResultsEmailRefused(Exception):
    """The link cannot be sent; the message says why, in words for the person."""


def _address_digest(address_key: str) -> str:
    # Keyed, so that a forwarded link does not let anyone confirm a guessed address.
    message = b"portraits.results-link:" + address_key.encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:32]


def results_link(job: PortraitJob, address: str) -> str:
    """An absolute link that opens this job's results page in any browser, while the results
    exist and `address` is still the address we hold for the job."""
    payload = {"job": str(job.id), "to": _address_digest(normalise_email(address))}
    value = signing.dumps(payload, salt=LINK_SALT, compress=False)
    return settings.SITE_URL + reverse("portraits:open_results", args=[value])


def job_from_results_link(value: str) -> PortraitJob | None:
    """The job a results link points at, if the link is genuine, the results still exist and we
    still hold the address it was sent to."""
    try:
        data = signing.loads(value, salt=LINK_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("job"), str):
        return None
    job = PortraitJob.objects.filter(id=str(data["job"])).first()
    if job is None or job.status != JobStatus.DONE or job.expires_at <= timezone.now():
        return None
    entry = ResultsEmail.objects.filter(job=job).first()
    sent_to = data.get("to")
    if entry is None or not isinstance(sent_to, str):
        return None
    if not hmac.compare_digest(sent_to, _address_digest(entry.address_key)):
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
            {
                "link": results_link(job, address),
                "expires_at": job.expires_at,
                "count": job.portraits.count(),
                "rights_url": settings.SITE_URL + reverse("compliance:dsar"),
            },
        )
    return entry


def forget_results_email(job: PortraitJob | Any) -> int:
    """Erase the stored address of a job (called whenever its results are erased)."""
    deleted, _ = ResultsEmail.objects.filter(job_id=job.pk).delete()
    return int(deleted)


def results_emails_to(address: str) -> QuerySet[ResultsEmail]:
    """Every stored results e-mail whose address normalises like `address`, compared exactly.

    A look-alike (another domain, or a local part that differs after NFKC + casefold) has
    another key and matches nothing; something that is not an address matches nothing.
    """
    key = normalise_email(address)
    if not key:
        return ResultsEmail.objects.none()
    return ResultsEmail.objects.filter(address_key=key).select_related("job").order_by("requested_at")


def describe_results_email(entry: ResultsEmail) -> dict[str, Any]:
    """What we hold about one results e-mail, for an access or portability export."""
    return {
        "address": entry.address,
        "requested_at": entry.requested_at.isoformat(),
        "last_sent_at": entry.last_sent_at.isoformat() if entry.last_sent_at else None,
        "sends": entry.sends,
        "kept_until": entry.job.expires_at.isoformat(),
    }


def forget_results_emails_to(address: str, *, exclude_job_ids: Any = (), actor: str) -> list[str]:
    """Erase the stored address wherever it is the results e-mail of a job (a data-rights erasure
    by address). The portraits stay: an address does not prove who holds the job. Deleting the
    row also ends the e-mailed link (job_from_results_link needs the address it was sent to).

    Returns the ids of the jobs whose address was erased.
    """
    entries = list(results_emails_to(address).exclude(job_id__in=list(exclude_job_ids)))
    job_ids: list[str] = []
    for entry in entries:
        ResultsEmail.objects.filter(pk=entry.pk).delete()
        job_ids.append(str(entry.job_id))
        record_event(
            "job.results_email_erased",
            actor=actor,
            object_type="portrait_job",
            object_id=str(entry.job_id),
            data={"reason": "subject_erasure_by_address"},  # never the address itself
        )
    return job_ids
