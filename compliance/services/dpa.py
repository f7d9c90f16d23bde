"""Data processing agreements per organisation (GDPR Art. 28(3))."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from compliance.audit import record_event
from compliance.models import ConsentKind, DpaAcceptance, SubprocessorRegisterVersion
from compliance.pdf import responsible_parties
from compliance.services.consent import current_document, truncate_ip
from compliance.services.registers import ADMIN_ROLES, current_register_version, subprocessor_entries
from compliance.services.retention import retention_schedule
from compliance.services.subprocessors import pending_changes


class DpaError(Exception):
    """The user may not accept or download this organisation's DPA."""


def organisation_role(user: Any, organisation: Any) -> str:
    if not getattr(user, "is_authenticated", False):
        return ""
    membership = apps.get_model("accounts", "Membership")
    return (
        membership.objects.filter(user=user, organisation=organisation).values_list("role", flat=True).first()
        or ""
    )


def can_manage_dpa(user: Any, organisation: Any) -> bool:
    """Owners and admins of the organisation, and our staff."""
    if getattr(user, "is_staff", False) and getattr(user, "is_active", False):
        return True
    return organisation_role(user, organisation) in ADMIN_ROLES


def accept_dpa(*, organisation: Any, user: Any, ip: str | None = None) -> DpaAcceptance:
    """Record that an owner or admin accepted the current DPA version for the organisation."""
    role = organisation_role(user, organisation)
    if role not in ADMIN_ROLES:
        raise DpaError("Only an owner or admin of the organisation can accept its DPA.")
    document = current_document(ConsentKind.DPA)
    with transaction.atomic():
        acceptance = DpaAcceptance.objects.create(
            organisation=organisation,
            document=document,
            document_version=document.version,
            document_sha256=document.sha256,
            accepted_by=user,
            accepted_by_role=role,
            accepted_at=timezone.now(),
            ip_truncated=truncate_ip(ip),
            subprocessors=subprocessor_entries(),
            register_version=version.version if (version := current_register_version()) else None,
        )
        record_event(
            "dpa.accepted",
            actor=f"user:{user.pk}",
            object_type="organisation",
            object_id=str(organisation.pk),
            data={"version": document.version, "sha256": document.sha256},
        )
    return acceptance


def dpa_context(organisation: Any) -> dict[str, Any]:
    """Everything the DPA PDF shows, live: register, retention schedule, acceptance."""
    document = current_document(ConsentKind.DPA)
    acceptance = DpaAcceptance.objects.filter(organisation=organisation).select_related("accepted_by").first()
    return {
        "organisation": organisation,
        "company": settings.PROPORTRAIT_COMPANY_NAME,
        "company_address": settings.PROPORTRAIT_COMPANY_ADDRESS,
        "privacy_email": settings.PROPORTRAIT_PRIVACY_EMAIL,
        "document": document,
        "clauses": document.text.split("\n\n"),
        # Annex III as accepted; what changed since is listed as changes, never merged in.
        "subprocessors": acceptance.subprocessors
        if acceptance and acceptance.register_version
        else subprocessor_entries(),
        "register_changes": _changes_since(acceptance),
        "pending_changes": pending_changes(),
        "retention": retention_schedule(organisation)["entries"],
        "acceptance": acceptance,
        **responsible_parties(),
        "generated_at": timezone.now(),
    }


def _changes_since(acceptance: DpaAcceptance | None) -> list[SubprocessorRegisterVersion]:
    if acceptance is None or acceptance.register_version is None:
        return []
    return list(
        SubprocessorRegisterVersion.objects.filter(version__gt=acceptance.register_version).order_by(
            "version"
        )
    )
