"""Read-only admin views of purchases and Stripe events: their state changes only through
Stripe's verified webhooks (portraits.payments), so staff can look but not edit."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from portraits.models import Purchase, StripeEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Purchase)
class PurchaseAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "status",
        "amount_cents",
        "currency",
        "created_at",
        "paid_at",
        "revoked_at",
        "keep_until",
    )
    list_filter = ("status",)
    search_fields = ("id", "payment_intent_id", "checkout_session_id")
    exclude = ("email_sha256",)


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "type", "outcome", "created_at_stripe", "received_at")
    list_filter = ("type", "outcome")
    search_fields = ("event_id",)
