"""Admin registrations. The admin site itself requires a second factor (AccountsConfig.ready)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from accounts.models import (
    Invitation,
    Membership,
    Organisation,
    OrganisationApiToken,
    TeamSubmission,
    TeamSubscription,
    User,
)


@admin.register(User)
class ProPortraitUserAdmin(UserAdmin):
    list_display = ("id", "email", "is_staff", "is_active", "email_verified_at", "date_joined")
    search_fields = ("email",)
    ordering = ("-date_joined",)


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "slug",
        "seats",
        "approved_retention_months",
        "unapproved_retention_days",
        "created_at",
    )
    search_fields = ("name", "slug")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "organisation", "role", "status")
    list_filter = ("role", "status")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("id", "organisation", "role", "created_at", "expires_at", "accepted_at", "revoked_at")
    exclude = ("token_hash",)


@admin.register(TeamSubmission)
class TeamSubmissionAdmin(admin.ModelAdmin):
    list_display = ("id", "membership", "status", "submitted_at", "approved_at")
    list_filter = ("status",)


@admin.register(OrganisationApiToken)
class OrganisationApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "name", "organisation", "created_at", "last_used_at", "revoked_at")
    exclude = ("token_hash",)


def login_through_accounts(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    """The admin has no password form of its own: it sends people to the account log-in, which
    has the rate limit, the lock-out and the second-factor step (OTPAdminSite then requires it)."""
    next_url = request.GET.get("next") or reverse("admin:index")
    return redirect_to_login(next_url, login_url=reverse("accounts:login"))


@admin.register(TeamSubscription)
class TeamSubscriptionAdmin(admin.ModelAdmin):
    """Read-only: the state follows Stripe's webhooks (accounts.billing); change it in Stripe."""

    list_display = ("organisation", "status", "seats", "cancel_at_period_end", "current_period_end")
    list_filter = ("status",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
