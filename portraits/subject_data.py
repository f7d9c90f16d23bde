"""Portrait jobs in data-rights requests: the export part and the eraser (registered in apps.py).

A person is matched by the jobs they proved they hold (the private job reference) and the jobs
of their account; those are exported with their portraits and erased whole. A verified address
also reaches the jobs whose results link was e-mailed to it, compared by the normalised key
(proportrait.addresses), but only the address itself: an access request learns that we hold it
for job X (no portraits), an erasure erases it and the e-mailed link. The job reference is what
proves a job (docs/privacy-design.md, "The results e-mail in the rights path").
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from compliance.services import ErasureReport, ErasureScope, ExportPart, Subject
from portraits import crypto, notify
from portraits.models import JobStatus, PortraitJob, ResultsEmail
from portraits.services import erase_job, read_portrait_bytes


def erase_subject_portraits(subject: Subject) -> ErasureReport:
    """The portraits app's eraser for the compliance cascade (DSAR, withdrawal, account deletion).

    Jobs in the subject's scope (proven by reference, or the account's) are erased whole. Beyond
    them, a full erasure for a verified address also erases that address wherever it is a job's
    results e-mail, and with it the e-mailed link; those jobs' portraits stay, because a mailbox
    does not prove who holds a job (the certificate says so).
    """
    erased = portraits = objects = results_emails = 0
    scoped_ids: list[Any] = []
    for job in _subject_jobs(subject):
        receipt = erase_job(job, reason="subject_erasure", actor="system:compliance")
        erased += 1
        portraits += receipt.portraits_deleted
        objects += receipt.objects_deleted
        results_emails += receipt.results_emails_deleted
        scoped_ids.append(job.id)
    # Detach the job rows from the person: they keep only ids and statuses.
    if subject.user_id is not None:
        PortraitJob.objects.filter(owner_id=subject.user_id).update(owner=None)
    address_only: list[str] = []
    if subject.email and subject.scope == ErasureScope.EVERYTHING:
        address_only = notify.forget_results_emails_to(
            subject.email, exclude_job_ids=scoped_ids, actor="system:compliance"
        )
        results_emails += len(address_only)
    days = settings.PROPORTRAIT_ERASED_JOB_RECORD_DAYS
    remains: list[str] = []
    if erased:
        remains.append(
            f"{erased} emptied job record(s): the job id, status 'deleted', dates and a hash of the job "
            f"token, so that a link or queued task finds the job deleted; deleted after {days} days. "
            "The photo, portraits, their keys, the seed and the style are gone."
        )
    if address_only:
        remains.append(
            f"The portraits of {len(address_only)} job(s) whose results link was e-mailed to this address "
            "were not erased, because an e-mail address does not prove who holds a job: we erased the "
            "address and the e-mailed link no longer opens the results; the portraits stay with whoever "
            "holds the job until they expire. To erase them too, ask again with the private job reference "
            "shown on the results page."
        )
    return ErasureReport(
        app="portraits",
        categories={
            "portrait_jobs": erased,
            "portraits": portraits,
            "storage_objects": objects,
            "results_email_addresses": results_emails,
        },
        systems=("database", "object_storage", "data_keys", "task_queue"),
        notes="Queued generation tasks find the job erased and do nothing; data keys are crypto-shredded.",
        remains=" ".join(remains),
    )


def _subject_jobs(subject: Subject) -> Any:
    jobs = PortraitJob.objects.none()
    if subject.job_ids:
        jobs = jobs | PortraitJob.objects.filter(id__in=list(subject.job_ids))
    if subject.user_id is not None:
        jobs = jobs | PortraitJob.objects.filter(owner_id=subject.user_id)
    return jobs.distinct().select_related("results_key").prefetch_related("portraits")


def export_subject_portraits(subject: Subject) -> Any:
    """The portraits app's part of an access or portability export: job facts and the portraits.

    Each job in the subject's scope carries its results e-mail address, if one is stored. Jobs
    reached only because their results link was e-mailed to the subject's address are listed
    under `results_emails_by_address`: the address and its dates, never the portraits (an
    address does not prove who holds a job; the job reference does).
    The original photo is never exported: it no longer exists once a job has ended.
    """
    jobs_data: list[dict[str, Any]] = []
    files: dict[str, bytes] = {}
    scoped_ids: list[Any] = []
    for job in _subject_jobs(subject):
        scoped_ids.append(job.id)
        stored_email = ResultsEmail.objects.filter(job=job).select_related("job").first()
        entry: dict[str, Any] = {
            "id": str(job.id),
            "status": job.status,
            "style": job.style_slug,
            "created_at": job.created_at.isoformat(),
            "expires_at": job.expires_at.isoformat(),
            "original_deleted_at": job.original_deleted_at.isoformat() if job.original_deleted_at else None,
            "results_email": notify.describe_results_email(stored_email) if stored_email else None,
            "portraits": [],
        }
        if job.status == JobStatus.DONE:
            for portrait in job.portraits.all():
                extension = "jpg" if portrait.full_format == "jpeg" else portrait.full_format
                path = f"portraits/{job.id}/portrait-{portrait.variant + 1}.{extension}"
                try:
                    files[path] = read_portrait_bytes(portrait, "full")
                except crypto.KeyDestroyed:
                    continue
                entry["portraits"].append(
                    {"id": str(portrait.id), "file": path, "width": portrait.width, "height": portrait.height}
                )
        jobs_data.append(entry)
    data: dict[str, Any] = {"portrait_jobs": jobs_data}
    if subject.email:
        by_address = [
            {"job_id": str(stored.job_id), **notify.describe_results_email(stored)}
            for stored in notify.results_emails_to(subject.email).exclude(job_id__in=scoped_ids)
        ]
        if by_address:
            data["results_emails_by_address"] = by_address
            data["results_emails_by_address_note"] = (
                "We hold your address as the results e-mail of these jobs. We do not include their "
                "portraits: an e-mail address does not prove who holds a job. Ask again with the "
                "private job reference shown on the results page to receive them."
            )
    return ExportPart(json_data=data, files=files)
