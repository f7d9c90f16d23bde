"""Staff views: consent, the DSAR queue, the audit log, the registers. Writes go through services."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from compliance import checkpoints, pdf, services
from compliance.audit import record_event, verify_chain
from compliance.models import (
    AuditCheckpoint,
    AuditEvent,
    CheckpointReason,
    ConsentDocument,
    ConsentRecord,
    DataSubjectRequest,
    DeletionCertificate,
    DpaAcceptance,
    DsarStatus,
    ProcessingActivity,
    ProcessingActivityVersion,
    SubProcessor,
    SubprocessorChange,
    SubprocessorObjection,
    SubprocessorRegisterVersion,
)
from compliance.services import registers
from compliance.services import subprocessors as subprocessor_services
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

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValueError as error:
            # The biometric notice is rendered from settings; a hand-written one is refused.
            self.message_user(request, str(error), messages.ERROR)
            return HttpResponseRedirect(request.path)


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
                request,
                f"Audit chain intact: {report.events_checked} events verified, "
                f"{report.checkpoints_checked} signed checkpoints matched.",
                messages.SUCCESS,
            )
            for warning in report.warnings:
                self.message_user(request, f"Warning: {warning}.", messages.WARNING)
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


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Signed heads of the chain; the storage copy and the DPO's mail are the ones that count."""

    list_display = ["sequence", "signed_at", "reason", "key_id", "short_hash", "published_at", "mailed_at"]
    list_filter = ["reason"]
    actions = ["sign_now"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Head hash")
    def short_hash(self, obj: AuditCheckpoint) -> str:
        return obj.head_hash[:16] + "…"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # Signing concerns the whole chain: it must run with nothing selected (or no rows yet).
        if (
            request.method == "POST"
            and request.POST.get("action") == "sign_now"
            and not request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME)
        ):
            self.sign_now(request, AuditCheckpoint.objects.none())
            return HttpResponseRedirect(request.path)
        return super().changelist_view(request, extra_context)

    @admin.action(description="Sign and publish a checkpoint of the current head now")
    def sign_now(self, request: HttpRequest, queryset: QuerySet[AuditCheckpoint]) -> None:
        checkpoint = checkpoints.sign_checkpoint(reason=CheckpointReason.MANUAL)
        record_event(
            "audit.checkpoint_signed",
            actor=_actor(request),
            object_type="audit_checkpoint",
            object_id=str(checkpoint.pk),
            data={"sequence": checkpoint.sequence, "head_hash": checkpoint.head_hash},
        )
        self.message_user(request, f"Checkpoint #{checkpoint.sequence} signed.", messages.SUCCESS)


# --- Registers.


@admin.register(SubProcessor)
class SubProcessorAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Read-only: the register changes through scheduled changes (notice first, then effect)."""

    list_display = ["name", "purpose", "location", "transfer_safeguard", "receives_photos", "since", "until"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class SubprocessorChangeForm(forms.ModelForm):
    name = forms.CharField(required=False, max_length=200)
    purpose = forms.CharField(required=False, max_length=300)
    location = forms.CharField(required=False, max_length=200)
    transfer_safeguard = forms.CharField(required=False, max_length=300)
    data_categories = forms.CharField(required=False, max_length=300)
    privacy_contact_email = forms.EmailField(required=False)
    receives_photos = forms.BooleanField(required=False)

    class Meta:
        model = SubprocessorChange
        fields = ["action", "subprocessor", "change_summary", "effective_at"]


@admin.register(SubprocessorChange)
class SubprocessorChangeAdmin(admin.ModelAdmin):
    """Scheduling a change notifies every organisation now; it takes effect on its date."""

    form = SubprocessorChangeForm
    list_display = ["__str__", "status", "scheduled_at", "effective_at", "objections_count"]
    list_filter = ["status", "action"]
    action_form = ReasonActionForm
    actions = ["cancel"]
    fields = [
        "action",
        "subprocessor",
        "name",
        "purpose",
        "location",
        "transfer_safeguard",
        "data_categories",
        "privacy_contact_email",
        "receives_photos",
        "change_summary",
        "effective_at",
    ]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Objections")
    def objections_count(self, obj: SubprocessorChange) -> int:
        return obj.objections.count()

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        form.base_fields[
            "effective_at"
        ].help_text = (
            f"At least {settings.COMPLIANCE_SUBPROCESSOR_NOTICE_DAYS} days from now (the notice period)."
        )
        return form

    def save_model(self, request: HttpRequest, obj: SubprocessorChange, form: Any, change: bool) -> None:
        values = {name: form.cleaned_data.get(name) for name in subprocessor_services.FIELDS}
        scheduled = services.schedule_subprocessor_change(
            action=form.cleaned_data["action"],
            change_summary=form.cleaned_data["change_summary"],
            actor=_actor(request),
            effective_at=form.cleaned_data["effective_at"],
            subprocessor=form.cleaned_data.get("subprocessor"),
            values={key: value for key, value in values.items() if value not in ("", None)},
        )
        obj.pk = scheduled.pk
        obj._state.adding = False

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except services.SubprocessorChangeError as error:
            self.message_user(request, str(error), messages.ERROR)
            return HttpResponseRedirect(request.path)

    @admin.action(description="Cancel the selected scheduled changes (reason required)")
    def cancel(self, request: HttpRequest, queryset: QuerySet[SubprocessorChange]) -> None:
        for change in queryset:
            try:
                services.cancel_subprocessor_change(
                    change, actor=_actor(request), reason=request.POST.get("reason", "")
                )
            except services.SubprocessorChangeError as error:
                self.message_user(request, f"{change}: {error}", messages.ERROR)


@admin.register(SubprocessorRegisterVersion)
class SubprocessorRegisterVersionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["version", "published_at", "change_summary", "objection_deadline"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(SubprocessorObjection)
class SubprocessorObjectionAdmin(admin.ModelAdmin):
    list_display = ["organisation", "change", "register_version", "raised_at"]
    readonly_fields = ["organisation", "change", "register_version", "raised_by", "reason", "raised_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ChangeReasonForm(forms.ModelForm):
    """Register edits say why; the reason is kept with the version the edit creates."""

    change_reason = forms.CharField(
        label="Reason for this change", widget=forms.TextInput(attrs={"size": 80}), required=True
    )


@admin.register(ProcessingActivity)
class ProcessingActivityAdmin(admin.ModelAdmin):
    """Edits go through save_processing_activity: each one is a new version, the old one stays."""

    form = ChangeReasonForm
    list_display = ["name", "role", "legal_basis", "version", "updated_at", "retired_at"]
    fields = (*(field for field, _ in ROPA_FIELDS), "change_reason")
    actions = ["export_csv", "export_pdf", "retire"]
    action_form = ReasonActionForm

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ProcessingActivity, form: Any, change: bool) -> None:
        values = {field: str(form.cleaned_data[field]) for field, _ in ROPA_FIELDS}
        saved = registers.save_processing_activity(
            ProcessingActivity.objects.get(pk=obj.pk) if change else None,
            values=values,
            actor=_actor(request),
            reason=form.cleaned_data["change_reason"],
        )
        obj.pk, obj.version = saved.pk, saved.version
        obj._state.adding = False

    @admin.action(description="Retire: we no longer carry out this processing (reason required)")
    def retire(self, request: HttpRequest, queryset: QuerySet[ProcessingActivity]) -> None:
        try:
            for activity in queryset:
                registers.retire_processing_activity(
                    activity, actor=_actor(request), reason=request.POST.get("reason", "")
                )
        except ValueError as error:
            self.message_user(request, str(error), messages.ERROR)

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


@admin.register(ProcessingActivityVersion)
class ProcessingActivityVersionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["activity", "version", "changed_at", "changed_by", "reason"]
    list_filter = ["activity"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(DpaAcceptance)
class DpaAcceptanceAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["organisation", "document_version", "accepted_by_role", "accepted_at"]
    list_filter = ["document_version"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


# The breach register's admin lives in its own module; it uses the helpers above.
from compliance import admin_breaches  # noqa: E402, F401
