"""The data protection impact assessment (GDPR Art. 35), generated from the live system.

The processing description comes from the records of processing, the measures from the settings
and code that enforce them, and a few facts are measured at generation time (the audit chain
verifies; no original photo outlived the dead-man limit). Colorado's data protection assessment
(C.R.S. 6-1-1309, 4 CCR 904-3 Part 8) reuses it: the mapping is part of the document.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.utils import timezone

from compliance.checkpoints import latest_checkpoint
from compliance.services.registers import ropa_rows
from compliance.services.retention import retention_schedule


@dataclass(frozen=True)
class Risk:
    risk: str
    likelihood: str
    severity: str
    measures: str
    residual: str


def _risks(schedule: dict[str, Any]) -> list[Risk]:
    minutes = schedule["original_photo_minutes"]
    return [
        Risk(
            "A stored photo is stolen (storage or backup breach) and used to identify or "
            "impersonate the person.",
            "Possible",
            "Significant",
            "Only AES-256-GCM ciphertext reaches storage, each object with its own data key "
            "wrapped by a master "
            "key from the environment (portraits/crypto.py); the original's key is wiped at job end "
            f"(crypto-shredding) and a sweeper destroys any original older than {minutes} minutes.",
            "Remote",
        ),
        Risk(
            "Biometric templates are created and reused (face recognition, profiling).",
            "Remote",
            "Maximum",
            "No embedding or template is ever computed; face geometry lives in worker memory "
            "during one job; the "
            "audit log refuses face, landmark and embedding fields (compliance/audit.py).",
            "Remote",
        ),
        Risk(
            "Photos used beyond their purpose (training, sale, sharing).",
            "Remote",
            "Significant",
            "No code path exports originals; no training; recipients of photos are named in the "
            "consent notice, "
            "which is re-versioned when they change (compliance/services/notices.py).",
            "Remote",
        ),
        Risk(
            "Consent not valid or not provable (bundled, pre-ticked, text differs from practice).",
            "Possible",
            "Significant",
            "Unticked separate box and typed-name signature; versioned, hashed notice rendered from the live "
            "settings; immutable consent records.",
            "Remote",
        ),
        Risk(
            "Rights requests not honoured in time, or evidence of erasure that can be rewritten.",
            "Possible",
            "Limited",
            "Public request form, deadlines per law, automatic fulfilment; deletion certificates "
            "carry a keyed "
            "audit hash and an Ed25519-signed checkpoint published outside the database.",
            "Remote",
        ),
        Risk(
            "A breach is not notified within the legal deadlines.",
            "Possible",
            "Significant",
            "Breach register with Art. 33(3) fields, versioned edits, per-jurisdiction clocks; back-dated "
            "notification times are marked; daily digest to the privacy team.",
            "Remote",
        ),
        Risk(
            "A sub-processor receives photos without notice to organisations or people.",
            "Possible",
            "Significant",
            "Changes are scheduled with notice and objection period; DPAs keep the accepted Annex "
            "III; a change "
            "in photo recipients is a new biometric notice version and requires fresh consent.",
            "Remote",
        ),
    ]


def _originals_past_limit(minutes: int) -> int | None:
    try:
        job_model = apps.get_model("portraits", "PortraitJob")
    except LookupError:
        return None
    cutoff = timezone.now() - timedelta(minutes=minutes)
    return int(
        job_model.objects.filter(original_deleted_at__isnull=True, created_at__lt=cutoff)
        .exclude(original_storage_key="")
        .count()
    )


def dpia_context() -> dict[str, Any]:
    """Everything the DPIA PDF shows, read from the running system."""
    from compliance.audit import verify_chain
    from compliance.pdf import responsible_parties

    schedule = retention_schedule()
    now = timezone.now()
    chain = verify_chain()
    checkpoint = latest_checkpoint()
    return {
        "activities": ropa_rows(),
        "schedule": schedule,
        "risks": _risks(schedule),
        "evidence": {
            "chain_ok": chain.ok,
            "chain_events": chain.events_checked,
            "chain_reason": chain.reason,
            "checkpoint": checkpoint,
            "originals_past_limit": _originals_past_limit(schedule["original_photo_minutes"]),
        },
        "dpo_opinion": settings.PROPORTRAIT_DPIA_DPO_OPINION,
        "generated_at": now,
        "review_by": now + timedelta(days=30 * settings.PROPORTRAIT_DPIA_REVIEW_MONTHS),
        "review_months": settings.PROPORTRAIT_DPIA_REVIEW_MONTHS,
        **responsible_parties(),
    }
