"""Access and portability exports (GDPR Arts. 15 and 20, CCPA right to know).

Each app contributes its part through a registered exporter; export_subject_data() assembles
one ZIP: data.json in a documented schema (docs/compliance/export-schema.md), the files
(portraits), schema.json and an Art. 15 cover sheet as PDF.
"""

from __future__ import annotations

import hashlib
import io
import json
import posixpath
import secrets
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from compliance.audit import record_event
from compliance.services.erasure import Subject

EXPORT_SCHEMA_ID = "proportrait.subject-export/1"


@dataclass
class ExportPart:
    """One app's share of an export: JSON-ready data and files by relative path."""

    json_data: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)


Exporter = Callable[[Subject], ExportPart]
_EXPORTERS: dict[str, Exporter] = {}


def register_exporter(name: str, exporter: Exporter) -> None:
    """Called from each app's AppConfig.ready(), next to register_eraser()."""
    _EXPORTERS[name] = exporter


def unregister_exporter(name: str) -> None:
    _EXPORTERS.pop(name, None)


def registered_exporters() -> dict[str, Exporter]:
    return dict(_EXPORTERS)


EXPORT_JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": EXPORT_SCHEMA_ID,
    "title": "ProPortrait AI export of one person's data",
    "type": "object",
    "required": ["schema", "generated_at", "reference", "parts", "files"],
    "properties": {
        "schema": {"const": EXPORT_SCHEMA_ID},
        "generated_at": {"type": "string", "format": "date-time"},
        "reference": {"type": "string", "description": "The request reference (DSAR-...) or 'account'."},
        "parts": {
            "type": "object",
            "description": "One key per app (accounts, portraits, compliance); each app documents its keys.",
            "additionalProperties": {"type": "object"},
        },
        "files": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "part", "bytes", "sha256"],
                "properties": {
                    "path": {"type": "string", "description": "Path inside the ZIP, under files/."},
                    "part": {"type": "string"},
                    "bytes": {"type": "integer"},
                    "sha256": {"type": "string"},
                },
            },
        },
    },
}


def _safe_path(part: str, name: str) -> str:
    # Exporters name their files; keep them inside files/<part>/ whatever they return.
    cleaned = posixpath.normpath("/" + name.replace("\\", "/")).lstrip("/")
    return f"files/{part}/{cleaned}"


def art15_context(subject: Subject) -> dict[str, Any]:
    """Everything GDPR Art. 15(1)-(2) asks us to say besides the data itself."""
    from compliance.models import SubProcessor
    from compliance.services.retention import retention_schedule

    return {
        "company": settings.PROPORTRAIT_COMPANY_NAME,
        "company_address": settings.PROPORTRAIT_COMPANY_ADDRESS,
        "privacy_email": settings.PROPORTRAIT_PRIVACY_EMAIL,
        "authority": settings.PROPORTRAIT_SUPERVISORY_AUTHORITY,
        "purposes": [
            "Generate professional portraits from the photo you uploaded (then destroy the photo).",
            "Run your account or your organisation's headshot programme, if you have one.",
            "Keep proof of your consent and of our answers to your requests (legal obligation).",
            "Keep the service secure (audit log without personal data).",
            "Take payments for downloads and team plans, and keep accounting records (legal obligation).",
        ],
        "categories": [
            "Account data: email address, name, login and two-factor settings.",
            "Organisation membership: organisation, role, headshot status.",
            "Portraits generated from your photo (the photo itself is destroyed within minutes).",
            "Consent records: document version and hash, typed name, truncated IP address, browser.",
            "Data rights requests you made.",
            "The address you asked us to e-mail your results link to, kept until those results expire.",
            "Purchases: amount, dates, Stripe payment reference, a keyed hash of the checkout e-mail.",
        ],
        "recipients": list(SubProcessor.objects.filter(until__isnull=True)),
        "retention": retention_schedule()["entries"],
        "rights": [
            "Access (Art. 15) and a portable copy (Art. 20)",
            "Rectification (Art. 16)",
            "Erasure (Art. 17)",
            "Restriction (Art. 18) and objection (Art. 21)",
            "Withdraw consent at any time, as easily as you gave it (Art. 7(3))",
            "California residents: know, delete, correct, and not to be discriminated against for asking",
        ],
        "source": "All of it comes from you (or, for team members, from the organisation that invited you). "
        "We do not buy data or receive it from third parties. No automated decision with legal effect "
        "is made about you.",
        "subject_summary": {"has_account": subject.user_id is not None, "job_count": len(subject.job_ids)},
    }


#: Keys that describe an export part rather than hold anyone's data (and any key ending in
#: "_note": an explanation written for the reader). Without this, the purchases part's fixed
#: explanation made every access request look as if it had found data.
_METADATA_KEYS = frozenset({"schema", "generated_at", "payment_processor"})


def _is_metadata(key: str) -> bool:
    return key in _METADATA_KEYS or key.endswith("_note")


def _has_content(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_content(item) for key, item in value.items() if not _is_metadata(str(key)))
    if isinstance(value, (list, tuple)):
        return any(_has_content(item) for item in value)
    return value not in (None, "", 0, False)


def subject_holds_data(subject: Subject, *, ignore_reference: str = "") -> bool:
    """Whether any registered app holds something about `subject`, beyond the record of the
    request `ignore_reference` itself (which exists because the person asked). What an answer
    says ("we found no data linked to this") is decided here, from the same exporters."""
    for exporter in registered_exporters().values():
        part = exporter(subject)
        if part.files:
            return True
        data = dict(part.json_data)
        requests = data.pop("data_rights_requests", None)
        if requests and any(item.get("reference") != ignore_reference for item in requests):
            return True
        if _has_content(data):
            return True
    return False


def export_subject_data(subject: Subject, *, reference: str = "account", actor: str = "system") -> bytes:
    """Build the ZIP for one subject from every registered exporter. Returns the ZIP bytes.

    The ZIP is built in memory and never written unencrypted; callers store it through
    compliance.storage (encrypted) or stream it straight to the authenticated account holder.
    """
    from compliance.pdf import render_cover_sheet

    generated_at = timezone.now()
    parts: dict[str, Any] = {}
    files: list[tuple[str, str, bytes]] = []
    for name, exporter in sorted(registered_exporters().items()):
        part = exporter(subject)
        parts[name] = part.json_data
        files += [(name, _safe_path(name, path), content) for path, content in sorted(part.files.items())]
    document = {
        "schema": EXPORT_SCHEMA_ID,
        "generated_at": generated_at.isoformat(),
        "reference": reference,
        "parts": parts,
        "files": [
            {"path": path, "part": part, "bytes": len(content), "sha256": hashlib.sha256(content).hexdigest()}
            for part, path, content in files
        ],
    }
    cover = render_cover_sheet(
        {**art15_context(subject), "reference": reference, "generated_at": generated_at}
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(document, indent=2, ensure_ascii=False, default=str))
        archive.writestr("schema.json", json.dumps(EXPORT_JSON_SCHEMA, indent=2))
        archive.writestr("cover-sheet.pdf", cover)
        archive.writestr(
            "README.txt",
            "Your data from ProPortrait AI.\n\n"
            "cover-sheet.pdf  what we do with your data and your rights (GDPR Art. 15)\n"
            "data.json        your data, structured (schema in schema.json)\n"
            "files/           your portraits and other files, listed with their SHA-256 in data.json\n",
        )
        for _part, path, content in files:
            # Images are already compressed; storing them avoids wasted CPU.
            archive.writestr(path, content, compress_type=zipfile.ZIP_STORED)
    record_event(
        "export.created",
        actor=actor,
        object_type="export",
        object_id=reference,
        data={"parts": sorted(parts), "files": len(files)},
    )
    return buffer.getvalue()


# --- Stored exports: encrypted file, wrapped key, download link.


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def store_export(archive: bytes, *, request: Any = None) -> tuple[Any, str]:
    """Encrypt and store an export ZIP; return the record and its short-lived download link.

    The link holds only a random lookup token; the file's data key stays wrapped on our side.
    """
    from compliance import storage
    from compliance.models import DataExport
    from portraits.crypto import create_data_key
    from portraits.models import DataKeyPurpose

    token = secrets.token_urlsafe(32)
    data_key, raw_key = create_data_key(DataKeyPurpose.EXPORT)
    export = DataExport(
        request=request,
        size_bytes=len(archive),
        expires_at=timezone.now() + timedelta(hours=settings.COMPLIANCE_EXPORT_LINK_HOURS),
        token_sha256=_token_digest(token),
        data_key=data_key,
    )
    export.storage_key = storage.store_encrypted(f"{export.id}.zip.enc", archive, raw_key)
    export.save()
    return export, settings.SITE_URL + reverse("compliance:export_download", args=[token])


def find_export(token: str) -> Any:
    """The export a download link points at (live or not), or None."""
    from compliance.models import DataExport

    if not token:
        return None
    return DataExport.objects.filter(token_sha256=_token_digest(token)).select_related("data_key").first()


def read_export(export: Any) -> bytes:
    """The decrypted ZIP of a live export. Raises LookupError once it is expired or destroyed."""
    from compliance import storage
    from portraits.crypto import KeyDestroyed, unwrap_data_key

    if export.deleted_at is not None or export.data_key is None or timezone.now() > export.expires_at:
        raise LookupError("export expired")
    try:
        raw_key = unwrap_data_key(export.data_key)
    except KeyDestroyed as error:
        raise LookupError("export expired") from error
    return storage.read_decrypted(export.storage_key, raw_key)


def destroy_export(export: Any) -> bool:
    """Delete the file and wipe its data key (crypto-shredding); idempotent.

    Returns True when a file was deleted.
    """
    from compliance import storage
    from compliance.models import DataExport
    from portraits.crypto import destroy_data_key

    deleted = storage.delete_object(export.storage_key)
    if export.data_key is not None:
        destroy_data_key(export.data_key)
    DataExport.objects.filter(pk=export.pk, deleted_at__isnull=True).update(deleted_at=timezone.now())
    return deleted
