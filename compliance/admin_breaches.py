"""Staff views of the breach register (GDPR Arts. 33-34): every write calls
compliance.services.breaches, so versions and audit events are written in one place.

Imported at the end of compliance/admin.py (which Django's autodiscovery loads), after the
shared helpers it uses are defined there.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from compliance import services
from compliance.admin import ReadOnlyMixin, ReasonActionForm, _actor
from compliance.models import BreachIncident, BreachIncidentVersion, BreachOrganisation
from compliance.services import breaches as breach_services


class BreachOrganisationInline(admin.TabularInline):
    """Added through add_affected_organisation (an audit event each); never edited or removed here."""

    model = BreachOrganisation
    extra = 1
    fields = ["organisation", "affected_subjects_count", "notified_at"]
    readonly_fields = ["notified_at"]
    can_delete = False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class BreachActionForm(ReasonActionForm):
    when = forms.DateTimeField(
        required=False,
        label="When (UTC, blank = now; a past time needs a reason and is shown as back-dated)",
        widget=forms.DateTimeInput(attrs={"size": 20, "placeholder": "YYYY-MM-DD HH:MM"}),
    )


BREACH_FORM_FIELDS = [
    "title",
    "description",
    "detected_at",
    "status",
    "nature",
    "subject_categories",
    "affected_subjects_count",
    "record_categories",
    "affected_records_count",
    "likely_consequences",
    "measures_taken",
    "measures_proposed",
    "jurisdictions",
]


class BreachForm(forms.ModelForm):
    jurisdictions = forms.MultipleChoiceField(
        choices=[(d.key, f"{d.jurisdiction}: {d.notify} ({d.rule})") for d in breach_services.DEADLINES],
        widget=forms.CheckboxSelectMultiple,
        initial=list(breach_services.DEFAULT_JURISDICTIONS),
        required=False,
    )
    change_reason = forms.CharField(
        label="Reason for this change (kept with the new version)",
        required=False,
        widget=forms.TextInput(attrs={"size": 80}),
    )

    class Meta:
        model = BreachIncident
        fields = BREACH_FORM_FIELDS


@admin.register(BreachIncident)
class BreachIncidentAdmin(admin.ModelAdmin):
    """Every write calls compliance.services.breaches: versions and audit events, never a bare save."""

    form = BreachForm
    list_display = [
        "title",
        "detected_at",
        "deadline",
        "status",
        "affected_subjects_count",
        "authority_notified_at",
        "next_deadline",
        "version",
    ]
    list_filter = ["status"]
    inlines = [BreachOrganisationInline]
    action_form = BreachActionForm
    actions = ["notify_organisations", "record_authority_notified", "communicate_to_subjects"]
    readonly_fields = [
        "clocks",
        "authority_notified_at",
        "authority_notice_recorded_at",
        "authority_notice_backdate_reason",
        "subjects_notified_at",
        "subjects_notified_count",
        "version",
        "dpo_contact",
    ]

    class Media:
        css = {"all": ["compliance/admin.css"]}

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [*BREACH_FORM_FIELDS, "change_reason", *self.readonly_fields]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="DPO contact (Art. 33(3)(b))")
    def dpo_contact(self, obj: BreachIncident) -> str:
        return f"{settings.PROPORTRAIT_DPO_NAME} <{settings.PROPORTRAIT_DPO_EMAIL}>"

    @admin.display(description="Deadlines")
    def clocks(self, obj: BreachIncident) -> str:
        if obj.pk is None:
            return "-"
        rows = format_html_join(
            "",
            '<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class="breach-{}">{}</td></tr>',
            (
                (
                    clock.deadline.jurisdiction,
                    clock.deadline.notify,
                    clock.deadline.citation,
                    f"{clock.due_at:%Y-%m-%d %H:%M} UTC" if clock.due_at else clock.deadline.rule,
                    clock.state.split(" ")[0],
                    clock.state
                    + (
                        f", {clock.hours_left:.0f} h left"
                        if clock.hours_left and clock.hours_left > 0
                        else ""
                    ),
                )
                for clock in breach_services.clocks(obj)
            ),
        )
        return format_html(
            "<table><tr><th>Where</th><th>Who</th><th>Law</th><th>Due</th><th>State</th></tr>{}</table>", rows
        )

    @admin.display(description="Next open deadline")
    def next_deadline(self, obj: BreachIncident) -> str:
        running = [c for c in breach_services.clocks(obj) if c.state in {"running", "passed"} and c.due_at]
        if not running:
            return "-"
        clock = min(running, key=lambda c: c.due_at or obj.detected_at)
        label = f"{clock.deadline.jurisdiction} {clock.deadline.notify}: {clock.due_at:%Y-%m-%d %H:%M}"
        if clock.state == "passed":
            return format_html('<span class="dsar-overdue">{} (passed)</span>', label)
        return f"{label} ({clock.hours_left:.0f} h left)"

    @admin.display(description="72-hour deadline")
    def deadline(self, obj: BreachIncident) -> str:
        due = f"{obj.notification_deadline:%Y-%m-%d %H:%M}"
        if obj.authority_notified_at:
            if obj.authority_notified_at > obj.notification_deadline:
                return format_html('<span class="dsar-overdue">{} (missed)</span>', due)
            if obj.authority_notice_backdated:
                return format_html(
                    '<span class="dsar-soon">{} (met, back-dated: recorded {})</span>',
                    due,
                    f"{obj.authority_notice_recorded_at:%Y-%m-%d %H:%M}",
                )
            return f"{due} (met)"
        if timezone.now() > obj.notification_deadline:
            return format_html('<span class="dsar-overdue">{} (passed)</span>', due)
        return due

    def save_model(self, request: HttpRequest, obj: BreachIncident, form: Any, change: bool) -> None:
        values = {name: form.cleaned_data[name] for name in BREACH_FORM_FIELDS}
        if not change:
            saved = breach_services.report_breach(actor=_actor(request), **values)
        else:
            current = BreachIncident.objects.get(pk=obj.pk)
            saved = breach_services.update_breach(
                current,
                actor=_actor(request),
                reason=form.cleaned_data.get("change_reason") or "",
                **{name: values[name] for name in form.changed_data if name in values},
            )
        obj.pk, obj.version = saved.pk, saved.version
        obj._state.adding = False

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # The admin's change message reads these; the rows themselves come from the service.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if not inline_form.has_changed() or inline_form.instance.pk:
                continue
            breach_services.add_affected_organisation(
                form.instance,
                organisation=inline_form.cleaned_data["organisation"],
                affected_subjects_count=inline_form.cleaned_data.get("affected_subjects_count") or 0,
                actor=_actor(request),
            )

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except breach_services.BreachError as error:
            # The service refused (no reason given, a time in the future): say so, change nothing.
            self.message_user(request, str(error), messages.ERROR)
            return HttpResponseRedirect(request.path)

    @admin.action(description="Notify affected organisations not yet told")
    def notify_organisations(self, request: HttpRequest, queryset: QuerySet[BreachIncident]) -> None:
        total = sum(services.notify_breach_organisations(i, actor=_actor(request)) for i in queryset)
        self.message_user(request, f"{total} organisation(s) notified.", messages.SUCCESS)

    @admin.action(
        description="Tell the people affected (Art. 34): their addresses, comma-separated, as the note"
    )
    def communicate_to_subjects(self, request: HttpRequest, queryset: QuerySet[BreachIncident]) -> None:
        recipients = [
            part for part in request.POST.get("reason", "").replace(";", ",").split(",") if part.strip()
        ]
        for incident in queryset:
            try:
                communication = breach_services.communicate_to_subjects(
                    incident, recipients=recipients, actor=_actor(request)
                )
            except breach_services.BreachError as error:
                self.message_user(request, f"{incident.title}: {error}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"{incident.title}: {communication.recipients_count} people told.",
                    messages.SUCCESS,
                )

    @admin.action(description="Record: supervisory authority notified (at 'When', or now)")
    def record_authority_notified(self, request: HttpRequest, queryset: QuerySet[BreachIncident]) -> None:
        form = BreachActionForm(request.POST)
        form.is_valid()
        when = form.cleaned_data.get("when")
        for incident in queryset:
            try:
                breach_services.record_authority_notification(
                    incident, actor=_actor(request), notified_at=when, reason=request.POST.get("reason", "")
                )
            except breach_services.BreachError as error:
                self.message_user(request, f"{incident.title}: {error}", messages.ERROR)
            else:
                self.message_user(
                    request, f"{incident.title}: authority notification recorded.", messages.SUCCESS
                )


@admin.register(BreachIncidentVersion)
class BreachIncidentVersionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["incident", "version", "changed_at", "changed_by", "reason"]
    list_filter = ["incident"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
