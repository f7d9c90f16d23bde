"""The retention schedule: one source for the public page, the API, the DPA and the purge jobs.

The portraits purge enforces PROPORTRAIT_* values and compliance housekeeping enforces the
COMPLIANCE_* values; this module only reads them, so what we publish is what we do
(BIPA 740 ILCS 14/15(a), Colorado C.R.S. 6-1-1314).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

BIPA_OUTER_LIMIT = (
    "Illinois law (BIPA 15(a)) allows at most 3 years after your last interaction with us; "
    "every limit below is far shorter."
)
DESTRUCTION_CRYPTO = "Storage object deleted and its encryption key wiped (crypto-shredding)."


def _plural(value: int, unit: str) -> str:
    return f"{value} {unit}" if value == 1 else f"{value} {unit}s"


def _entry(
    key: str, data: str, value: int | None, unit: str, retention: str, destruction: str, enforced_by: str
) -> dict[str, Any]:
    return {
        "key": key,
        "data": data,
        "limit": {"value": value, "unit": unit} if value is not None else None,
        "retention": retention,
        "destruction": destruction,
        "enforced_by": enforced_by,
    }


def retention_schedule(organisation: Any = None) -> dict[str, Any]:
    """The live schedule as data. With an organisation, its own result policy is included.

    Returns {"entries": [...], plus flat values such as "original_photo_minutes"} so that
    callers can render a table or read one number.
    """
    minutes = int(settings.PROPORTRAIT_ORIGINAL_DEADMAN_MINUTES)
    anonymous_hours = int(settings.PROPORTRAIT_ANONYMOUS_RETENTION_HOURS)
    account_days = int(settings.PROPORTRAIT_ACCOUNT_RETENTION_DAYS)
    code_minutes = int(settings.COMPLIANCE_DSAR_CODE_MINUTES)
    unverified_days = int(settings.COMPLIANCE_DSAR_UNVERIFIED_RETENTION_DAYS)
    record_days = int(settings.COMPLIANCE_DSAR_RECORD_RETENTION_DAYS)
    export_hours = int(settings.COMPLIANCE_EXPORT_LINK_HOURS)
    audit_days = int(settings.COMPLIANCE_AUDIT_RETENTION_DAYS)
    consent_evidence_days = int(settings.PROPORTRAIT_CONSENT_EVIDENCE_DAYS)

    entries = [
        _entry(
            "original_photo",
            "The photo you upload (treated as biometric data)",
            minutes,
            "minute",
            f"Destroyed as soon as your portraits are ready or the job fails; never kept longer than "
            f"{_plural(minutes, 'minute')}, whatever happens.",
            DESTRUCTION_CRYPTO,
            "portraits: end of job, and a sweeper every minute",
        ),
        _entry(
            "face_geometry",
            "Face position, outline and landmarks found in the photo",
            0,
            "minute",
            "Never stored: it exists only in the generator's memory during one job.",
            "Released from memory when the job ends.",
            "gpu_worker: by design",
        ),
        _entry(
            "anonymous_results",
            "Portraits made without an account",
            anonymous_hours,
            "hour",
            f"Deleted {_plural(anonymous_hours, 'hour')} after they are made, "
            "or at once when you delete them.",
            DESTRUCTION_CRYPTO,
            "portraits: scheduled purge every 5 minutes",
        ),
        _entry(
            "account_results",
            "Portraits kept in a personal account",
            account_days,
            "day",
            f"Deleted {_plural(account_days, 'day')} after they are made, at once when you delete them or "
            "your account.",
            DESTRUCTION_CRYPTO,
            "portraits: scheduled purge every 5 minutes",
        ),
    ]
    if organisation is not None:
        months = int(getattr(organisation, "approved_retention_months", 0) or 0)
        days = int(getattr(organisation, "unapproved_retention_days", 0) or 0)
        entries.append(
            _entry(
                "organisation_approved_results",
                f"Approved headshots of {organisation.name} members",
                months,
                "month",
                f"Deleted {_plural(months, 'month')} after approval (policy of {organisation.name}).",
                DESTRUCTION_CRYPTO,
                "portraits: scheduled purge every 5 minutes",
            )
        )
        entries.append(
            _entry(
                "organisation_unapproved_results",
                f"Headshots of {organisation.name} members not yet approved",
                days,
                "day",
                f"Deleted {_plural(days, 'day')} after they are made (policy of {organisation.name}).",
                DESTRUCTION_CRYPTO,
                "portraits: scheduled purge every 5 minutes",
            )
        )
    purchase_years = int(settings.PROPORTRAIT_PURCHASE_RECORD_RETENTION_YEARS)
    unpaid_days = int(settings.PROPORTRAIT_UNPAID_PURCHASE_RETENTION_DAYS)
    entries.append(
        _entry(
            "purchase_records",
            "Purchase records (amount, currency, dates, Stripe payment reference; a keyed hash of the "
            "checkout e-mail)",
            purchase_years,
            "year",
            f"Kept {_plural(purchase_years, 'year')} after payment because tax law requires accounting "
            "records; the link to your portraits is cut when they are deleted, and an erasure request "
            "removes the e-mail hash. Checkout attempts never paid are deleted after "
            f"{_plural(unpaid_days, 'day')}.",
            "Database rows deleted.",
            "portraits: daily purchase-record housekeeping",
        )
    )
    erased_job_days = int(settings.PROPORTRAIT_ERASED_JOB_RECORD_DAYS)
    entries += [
        _entry(
            "erased_job_records",
            "Record of an erased portrait job (job id, status 'deleted', dates, a hash of the job token)",
            erased_job_days,
            "day",
            f"Kept {_plural(erased_job_days, 'day')} after the job is erased, so that a link or a queued "
            "task finds the job deleted instead of failing; it holds no photo, portrait, key, seed or style.",
            "Database row deleted.",
            "portraits: scheduled purge every 5 minutes",
        ),
        _entry(
            "consent_records",
            "Consent records (document version and hash, typed name, truncated IP, browser)",
            consent_evidence_days,
            "day",
            f"Proof of consent kept {_plural(consent_evidence_days, 'day')} after the data it covers is "
            "erased, then reduced to document version, hash and dates; erased with your other data when "
            "you ask for erasure.",
            "Typed name, IP and browser blanked; database rows deleted on an erasure request.",
            "compliance: daily housekeeping and erasure requests",
        ),
        _entry(
            "dsar_codes",
            "Verification codes for data rights requests",
            code_minutes,
            "minute",
            f"Valid for {_plural(code_minutes, 'minute')}; only a keyed hash is stored.",
            "Hash cleared on verification.",
            "compliance: verification",
        ),
        _entry(
            "dsar_unverified",
            "Data rights requests never verified",
            unverified_days,
            "day",
            f"Closed as unverifiable {_plural(unverified_days, 'day')} after they are received; the "
            "requester is told.",
            "Contact and text removed; the minimal record (type, dates, outcome) follows closed requests.",
            "compliance: daily housekeeping",
        ),
        _entry(
            "dsar_records",
            "Records of data rights requests (type, dates, outcome)",
            record_days,
            "day",
            f"The requester's email is removed when the request closes; the record itself is kept "
            f"{_plural(record_days, 'day')} as the law requires (CCPA 11 CCR 7101).",
            "Database rows deleted.",
            "compliance: daily housekeeping",
        ),
        _entry(
            "data_exports",
            "Copies of your data prepared for an access or portability request",
            export_hours,
            "hour",
            f"The download link works for {_plural(export_hours, 'hour')}; then the file is deleted and "
            "its encryption key wiped.",
            DESTRUCTION_CRYPTO,
            "compliance: daily housekeeping",
        ),
        _entry(
            "audit_log",
            "Audit log (ids, hashes and counts only, no personal data)",
            audit_days,
            "day",
            f"Kept {_plural(audit_days, 'day')} to prove what happened to data, then pruned.",
            "Database rows deleted; the chain stays verifiable from an anchor hash.",
            "compliance: daily housekeeping",
        ),
    ]
    return {
        "entries": entries,
        "original_photo_minutes": minutes,
        "anonymous_results_hours": anonymous_hours,
        "account_results_days": account_days,
        "dsar_code_minutes": code_minutes,
        "dsar_unverified_days": unverified_days,
        "dsar_record_days": record_days,
        "data_export_hours": export_hours,
        "audit_log_days": audit_days,
        "consent_evidence_days": consent_evidence_days,
        "purchase_record_years": purchase_years,
        "erased_job_record_days": erased_job_days,
        "biometric_outer_limit": BIPA_OUTER_LIMIT,
    }
