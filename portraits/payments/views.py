"""Pages of payments: the public pricing page, Buy (to Stripe Checkout) and the return from it."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from portraits.access import job_for_request
from portraits.models import Purchase
from portraits.payments import pricing
from portraits.payments import services as purchases
from portraits.payments.stripe_gateway import GatewayError


def pricing_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portraits/pricing.html",
        {
            "payments_enabled": pricing.payments_enabled(),
            "full_resolution": pricing.full_resolution_price(),
            "team_seat": pricing.team_seat_price(),
            "automatic_tax": settings.STRIPE_AUTOMATIC_TAX,
            "anonymous_hours": settings.PROPORTRAIT_ANONYMOUS_RETENTION_HOURS,
            "portraits_per_job": settings.PROPORTRAIT_PORTRAITS_PER_JOB,
        },
    )


class SeeOther(HttpResponseRedirect):
    status_code = 303


@require_POST
def buy(request: HttpRequest, job_id: str) -> HttpResponse:
    job = job_for_request(request, job_id)
    if job is None:
        raise Http404
    try:
        _purchase, session = purchases.start_purchase(job)
    except purchases.PurchaseRefused as refusal:
        return render(
            request, "portraits/purchase_refused.html", {"job": job, "message": str(refusal)}, status=409
        )
    except GatewayError:
        return render(
            request,
            "portraits/purchase_refused.html",
            {
                "job": job,
                "message": "Our payment provider could not be reached. Nothing was charged; "
                "please try again in a minute.",
            },
            status=503,
        )
    return SeeOther(session.url)


@never_cache
def purchase_return(request: HttpRequest, purchase_id: str) -> HttpResponse:
    """Stripe sends the buyer back here (paid or cancelled); the results page shows the state."""
    purchase = Purchase.objects.filter(id=purchase_id).select_related("job").first()
    if purchase is not None and purchase.job is not None and job_for_request(request, purchase.job_id):
        return redirect("portraits:job", job_id=purchase.job_id)
    # Another browser, or results already gone: say what we can without showing the job.
    return render(request, "portraits/purchase_return.html", {"purchase": purchase}, status=200)
