"""The organisation's Billing page: start a team plan, change seats, cancel, open Stripe's portal.

Admins only, with a second factor (as every organisation admin page). Parse, authorise, call
accounts.billing, respond.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import billing, teams
from accounts.team_views import admin_membership
from accounts.views import verified_required
from portraits.payments import pricing
from portraits.payments.stripe_gateway import GatewayError


class SeatsForm(forms.Form):
    seats = forms.IntegerField(min_value=1, max_value=10_000, label="Seats")


class SeeOther(HttpResponseRedirect):
    status_code = 303


STRIPE_UNREACHABLE = "Stripe could not be reached; nothing was changed. Please try again in a minute."


@verified_required
@never_cache
def billing_page(request: HttpRequest, slug: str) -> HttpResponse:
    membership = admin_membership(request, slug)
    organisation = membership.organisation
    subscription = billing.team_subscription(organisation)
    if request.method == "POST":
        form = SeatsForm(request.POST)
        if form.is_valid():
            try:
                session = billing.start_team_plan(
                    organisation,
                    seats=form.cleaned_data["seats"],
                    actor=request.user,  # type: ignore[arg-type]
                )
            except billing.BillingError as error:
                form.add_error("seats", str(error))
            except GatewayError:
                form.add_error(None, STRIPE_UNREACHABLE)
            else:
                return SeeOther(session.url)
    else:
        form = SeatsForm(initial={"seats": max(1, teams.seats_used(organisation))})
    context = {
        "organisation": organisation,
        "membership": membership,
        "subscription": subscription,
        "payments_enabled": pricing.payments_enabled(),
        "seat_price": pricing.team_seat_price(),
        "seat_limit": billing.seat_limit(organisation),
        "seats_used": teams.seats_used(organisation),
        "form": form,
        "seats_form": SeatsForm(initial={"seats": subscription.seats if subscription else 1}),
    }
    return render(request, "accounts/org_billing.html", context, status=400 if form.errors else 200)


@verified_required
@require_POST
def change_seats(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = admin_membership(request, slug).organisation
    form = SeatsForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter a number of seats.")
        return redirect("accounts:org_billing", slug=slug)
    try:
        subscription = billing.change_seats(
            organisation,
            seats=form.cleaned_data["seats"],
            actor=request.user,  # type: ignore[arg-type]
        )
    except billing.BillingError as error:
        messages.error(request, str(error))
    except GatewayError:
        messages.error(request, STRIPE_UNREACHABLE)
    else:
        messages.success(request, f"Your team plan now has {subscription.seats} seats, billed pro rata.")
    return redirect("accounts:org_billing", slug=slug)


@verified_required
@require_POST
def cancel_plan(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = admin_membership(request, slug).organisation
    try:
        billing.cancel_team_plan(organisation, actor=request.user)  # type: ignore[arg-type]
    except billing.BillingError as error:
        messages.error(request, str(error))
    except GatewayError:
        messages.error(request, STRIPE_UNREACHABLE)
    else:
        messages.success(request, "Your team plan ends at the end of the paid period.")
    return redirect("accounts:org_billing", slug=slug)


@verified_required
@never_cache
def customer_portal(request: HttpRequest, slug: str) -> HttpResponse:
    """A link, not a form: the CSP's form-action stays limited to Stripe's Checkout origin."""
    organisation = admin_membership(request, slug).organisation
    if not pricing.payments_enabled():
        raise Http404
    try:
        session = billing.portal_session(organisation)
    except billing.BillingError as error:
        messages.error(request, str(error))
        return redirect("accounts:org_billing", slug=slug)
    except GatewayError:
        messages.error(request, STRIPE_UNREACHABLE)
        return redirect("accounts:org_billing", slug=slug)
    return SeeOther(session.url)
