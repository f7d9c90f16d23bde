"""Staff views: consent, the DSAR queue, the audit log, the registers. Writes go through services."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from compliance import pdf, services
from compliance.audit import verify_chain
from compliance.models import (
    AuditEvent,
    BreachIncident,
    BreachOrganisation,
    ConsentDocument,
    ConsentRecord,
    DataSubjectRequest,
    DeletionCertificate,
    DpaAcceptance,
    DsarStatus,
    ProcessingActivity,
    SubProcessor,
    SubprocessorObjection,
    SubprocessorRegisterVersion,
)
from compliance.services.dsar import release_held_request
from compliance.services.registers import ROPA_FIELDS


def _actor(request: HttpRequest) -> str:
    return f"staff:{request.user.pk}"


class ReadOnlyMixin:
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- Consent.


DOCUMENT_FIELDS = ("kind", "title", "text", "effective_at", "jurisdiction_notes", "version", "sha256")


@admin.register(ConsentDocument)
class ConsentDocumentAdmin(admin.ModelAdmin):
    """New versions only: an existing document is shown read-only; saving publishes the next version."""

    list_display = ["kind", "version", "title", "effective_at", "short_hash"]
    list_filter = ["kind"]
    fields = DOCUMENT_FIELDS
    readonly_fields = ["version", "sha256"]

    @admin.display(description="SHA-256")
    def short_hash(self, obj: ConsentDocument) -> str:
        return obj.sha256[:16] + "…"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return list(DOCUMENT_FIELDS) if obj else list(self.readonly_fields)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ConsentDocument, form: Any, change: bool) -> None:
        published = services.publish_document(
            obj.kind,
            title=obj.title,
            text=obj.text,
            effective_at=obj.effective_at,
            jurisdiction_notes=obj.jurisdiction_notes,
            actor=_actor(request),
        )
        obj.pk, obj.version, obj.sha256 = published.pk, published.version, published.sha256
        obj._state.adding = False


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "recorded_at",
        "action",
        "subject_type",
        "subject_id",
        "document_kind",
        "document_version",
    ]
    list_filter = ["action", "subject_type", "document_kind", "document_version", "recorded_at"]
    search_fields = ["subject_id", "job_id", "document_sha256"]
    date_hierarchy = "recorded_at"
    actions = ["export_history"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Export consent history of the selected subjects (JSON)")
    def export_history(self, request: HttpRequest, queryset: QuerySet[ConsentRecord]) -> HttpResponse:
        job_ids = tuple(
            str(j) for j in queryset.filter(job_id__isnull=False).values_list("job_id", flat=True).distinct()
        )
        user_ids = set(queryset.filter(user_id__isnull=False).values_list("user_id", flat=True))
        histories = [services.consent_history(job_ids=job_ids)] if job_ids else []
        histories += [services.consent_history(user_id=user_id) for user_id in sorted(user_ids)]
        response = HttpResponse(
            json.dumps(histories, indent=2, ensure_ascii=False), content_type="application/json"
        )
        response["Content-Disposition"] = 'attachment; filename="consent-history.json"'
        return response


# --- The DSAR queue.


class OverdueFilter(admin.SimpleListFilter):
    title = "deadline"
    parameter_name = "deadline"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("overdue", "Overdue"), ("week", "Due within 7 days"), ("open", "All open")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[DataSubjectRequest]
    ) -> QuerySet[DataSubjectRequest]:
        open_requests = queryset.exclude(status__in=[DsarStatus.COMPLETED, DsarStatus.DENIED])
        now = timezone.now()
        if self.value() == "overdue":
            return open_requests.filter(due_at__lt=now)
        if self.value() == "week":
            return open_requests.filter(due_at__gte=now, due_at__lt=now + timedelta(days=7))
        if self.value() == "open":
            return open_requests
        return queryset


class ReasonActionForm(ActionForm):
    reason = forms.CharField(
        required=False,
        label="Reason / note (sent to the requester)",
        widget=forms.TextInput(attrs={"size": 60}),
    )


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(admin.ModelAdmin):
    list_display = [
        "reference_display",
        "request_type",
        "status",
        "hold",
        "received_at",
        "due_at",
        "days_left",
        "extended",
    ]
    list_filter = [OverdueFilter, "status", "hold", "request_type", "jurisdiction"]
    search_fields = ["email_sha256", "id"]
    ordering = ["due_at"]
    action_form = ReasonActionForm
    actions = ["extend", "deny", "start", "complete", "release"]
    readonly_fields = [f.name for f in DataSubjectRequest._meta.fields if f.name != "id"] + [
        "certificate_link"
    ]
    exclude = ["code_hash"]

    class Media:
        css = {"all": ["compliance/admin.css"]}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Reference")
    def reference_display(self, obj: DataSubjectRequest) -> str:
        return obj.reference

    @admin.display(description="Extended", boolean=True)
    def extended(self, obj: DataSubjectRequest) -> bool:
        return obj.extended_at is not None

    @admin.display(description="Days left")
    def days_left(self, obj: DataSubjectRequest) -> str:
        if not obj.is_open:
            return "-"
        days = services.days_left(obj)
        if days < 0:
            return format_html('<span class="dsar-overdue">Overdue by {} day(s)</span>', -days)
        if days < 7:
            return format_html('<span class="dsar-soon">{} day(s)</span>', days)
        return f"{days} days"

    @admin.display(description="Deletion certificate")
    def certificate_link(self, obj: DataSubjectRequest) -> str:
        if not obj.certificate_id:
            return "-"
        url = reverse("compliance:staff_certificate_pdf", args=[obj.certificate_id])
        return format_html('<a href="{}">PDF</a>', url)

    def _each(
        self, request: HttpRequest, queryset: QuerySet[DataSubjectRequest], verb: Any, done: str
    ) -> None:
        reason = request.POST.get("reason", "")
        count = 0
        for item in queryset:
            try:
                verb(item, reason)
            except services.DsarError as error:
                self.message_user(request, f"{item.reference}: {error.message}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, f"{count} request(s) {done}.", messages.SUCCESS)

    @admin.action(description="Extend the deadline (reason required)")
    def extend(self, request: HttpRequest, queryset: QuerySet[DataSubjectRequest]) -> None:
        self._each(
            request,
            queryset,
            lambda r, why: services.extend_request(r, reason=why, actor=_actor(request)),
            "extended",
        )

    @admin.action(description="Deny (reason required)")
    def deny(self, request: HttpRequest, queryset: QuerySet[DataSubjectRequest]) -> None:
        self._each(
            request,
            queryset,
            lambda r, why: services.deny_request(r, reason=why, actor=_actor(request)),
            "denied",
        )

    @admin.action(description="Start work on a manual request")
    def start(self, request: HttpRequest, queryset: QuerySet[DataSubjectRequest]) -> None:
        self._each(
            request, queryset, lambda r, why: services.start_request(r, actor=_actor(request)), "started"
        )

    @admin.action(description="Complete a manual request (note required)")
    def complete(self, request: HttpRequest, queryset: QuerySet[DataSubjectRequest]) -> None:
        self._each(
            request,
            queryset,
            lambda r, why: services.complete_request(r, note=why, actor=_actor(request)),
            "completed",
        )

    @admin.action(description="Release a held request: identity or ownership checked (say how)")
    def release(self, request: HttpRequest, queryset: QuerySet[DataSubjectRequest]) -> None:
        self._each(
            request,
            queryset,
            lambda r, why: release_held_request(r, note=why, actor=_actor(request)),
            "released",
        )


@admin.register(DeletionCertificate)
class DeletionCertificateAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["reference", "reason", "completed_at", "is_complete", "pdf_link"]
    list_filter = ["reason"]
    search_fields = ["reference"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="PDF")
    def pdf_link(self, obj: DeletionCertificate) -> str:
        return format_html('<a href="{}">PDF</a>', reverse("compliance:staff_certificate_pdf", args=[obj.pk]))


# --- Audit log.


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["sequence", "occurred_at", "actor", "action", "object_type", "object_id", "short_hash"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id", "hash", "actor"]
    actions = ["verify"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Hash")
    def short_hash(self, obj: AuditEvent) -> str:
        return obj.hash[:16] + "…"

    @admin.action(description="Verify the whole hash chain")
    def verify(self, request: HttpRequest, queryset: QuerySet[AuditEvent]) -> None:
        report = verify_chain()
        if report.ok:
            self.message_user(
                request, f"Audit chain intact: {report.events_checked} events verified.", messages.SUCCESS
            )
        else:
            where = (
                f"event #{report.first_broken_sequence}" if report.first_broken_sequence else "the chain head"
            )
            self.message_user(request, f"Audit chain BROKEN at {where}: {report.reason}.", messages.ERROR)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # The verify action works on the whole chain, so it must run even with nothing selected.
        if (
            request.method == "POST"
            and request.POST.get("action") == "verify"
            and not request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME)
        ):
            post = request.POST.copy()
            first = AuditEvent.objects.values_list("sequence", flat=True).first()
            if first is not None:
                post.setlist(admin.helpers.ACTION_CHECKBOX_NAME, [str(first)])
                request.POST = post  # type: ignore[assignment]  # a mutable copy, on purpose
        return super().changelist_view(request, extra_context)


# --- Registers.


@admin.register(SubProcessor)
class SubProcessorAdmin(admin.ModelAdmin):
    list_display = ["name", "purpose", "location", "transfer_safeguard", "since", "until"]
    action_form = ReasonActionForm
    actions = ["publish"]

    @admin.action(
        description="Publish the register as a new version and notify organisations (summary required)"
    )
    def publish(self, request: HttpRequest, queryset: QuerySet[SubProcessor]) -> None:
        try:
            version = services.publish_subprocessor_register(
                change_summary=request.POST.get("reason", ""), actor=_actor(request)
            )
        except ValueError as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        self.message_user(request, f"Register version {version.version} published.", messages.SUCCESS)


@admin.register(SubprocessorRegisterVersion)
class SubprocessorRegisterVersionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["version", "published_at", "change_summary", "objection_deadline"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(SubprocessorObjection)
class SubprocessorObjectionAdmin(admin.ModelAdmin):
    list_display = ["organisation", "register_version", "raised_at"]
    readonly_fields = ["organisation", "register_version", "raised_by", "reason", "raised_at"]


@admin.register(ProcessingActivity)
class ProcessingActivityAdmin(admin.ModelAdmin):
    list_display = ["name", "role", "legal_basis"]
    actions = ["export_csv", "export_pdf"]

    @admin.action(description="Export records of processing (CSV)")
    def export_csv(self, request: HttpRequest, queryset: QuerySet[ProcessingActivity]) -> HttpResponse:
        response = HttpResponse(services.ropa_csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="records-of-processing.csv"'
        return response

    @admin.action(description="Export records of processing (PDF)")
    def export_pdf(self, request: HttpRequest, queryset: QuerySet[ProcessingActivity]) -> HttpResponse:
        response = HttpResponse(
            pdf.render_ropa(services.ropa_rows(), ROPA_FIELDS), content_type="application/pdf"
        )
        response["Content-Disposition"] = 'attachment; filename="records-of-processing.pdf"'
        return response


class BreachOrganisationInline(admin.TabularInline):
    model = BreachOrganisation
    extra = 1
    readonly_fields = ["notified_at"]


@admin.register(BreachIncident)
class BreachIncidentAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "detected_at",
        "deadline",
        "status",
        "affected_subjects_count",
        "authority_notified_at",
    ]
    list_filter = ["status"]
    inlines = [BreachOrganisationInline]
    actions = ["notify_organisations"]

    class Media:
        css = {"all": ["compliance/admin.css"]}

    @admin.display(description="72-hour deadline")
    def deadline(self, obj: BreachIncident) -> str:
        if obj.authority_notified_at:
            return (
                f"{obj.notification_deadline:%Y-%m-%d %H:%M} (met)"
                if (obj.authority_notified_at <= obj.notification_deadline)
                else format_html(
                    '<span class="dsar-overdue">{} (missed)</span>',
                    f"{obj.notification_deadline:%Y-%m-%d %H:%M}",
                )
            )
        if timezone.now() > obj.notification_deadline:
            return format_html(
                '<span class="dsar-overdue">{} (passed)</span>', f"{obj.notification_deadline:%Y-%m-%d %H:%M}"
            )
        return f"{obj.notification_deadline:%Y-%m-%d %H:%M}"

    @admin.action(description="Notify affected organisations not yet told")
    def notify_organisations(self, request: HttpRequest, queryset: QuerySet[BreachIncident]) -> None:
        total = sum(services.notify_breach_organisations(i, actor=_actor(request)) for i in queryset)
        self.message_user(request, f"{total} organisation(s) notified.", messages.SUCCESS)


@admin.register(DpaAcceptance)
class DpaAcceptanceAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["organisation", "document_version", "accepted_by_role", "accepted_at"]
    list_filter = ["document_version"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
