"""The one module that renders PDFs (weasyprint). Templates live in templates/compliance/pdf/.

No remote resources: the templates carry their own CSS and use system fonts, and the URL
fetcher refuses anything that is not a local file, so rendering never touches the network.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone


def no_network_fetcher() -> Any:
    """A weasyprint fetcher that allows local files only (data: URIs are handled without fetching)."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"file"}, allow_redirects=False, timeout=1)


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    """Render templates/compliance/pdf/<template> to PDF bytes."""
    from PIL import ImageFile
    from weasyprint import HTML

    # Importing weasyprint switches on Pillow's process-global LOAD_TRUNCATED_IMAGES; our PDFs
    # embed no untrusted images, and photo validation in this process must not be weakened.
    ImageFile.LOAD_TRUNCATED_IMAGES = False

    html = render_to_string(
        f"compliance/pdf/{template}",
        {
            "company": settings.PROPORTRAIT_COMPANY_NAME,
            "site_url": settings.SITE_URL,
            "rendered_at": timezone.now(),
            **context,
        },
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR), url_fetcher=no_network_fetcher()).write_pdf()


def render_certificate(certificate: Any) -> bytes:
    """The deletion certificate of one erasure."""
    notices = list(certificate.notices.order_by("subprocessor_name"))
    erased = (certificate.scope or {}).get("erased", {})
    notes = (certificate.scope or {}).get("notes", {})
    return render_pdf(
        "certificate.html",
        {"certificate": certificate, "erased": erased, "notes": notes, "notices": notices},
    )


def render_dpa(context: dict[str, Any]) -> bytes:
    """An organisation's DPA; context from compliance.services.dpa_context()."""
    return render_pdf("dpa.html", context)


def render_ropa(rows: list[dict[str, str]], labels: list[tuple[str, str]]) -> bytes:
    """The records of processing activities (Art. 30)."""
    from django.apps import apps

    controllers = sorted(
        set(
            apps.get_model("compliance", "DpaAcceptance").objects.values_list("organisation__name", flat=True)
        )
    )
    return render_pdf(
        "ropa.html",
        {"rows": rows, "labels": labels, "controllers": controllers, **responsible_parties()},
    )


def responsible_parties() -> dict[str, str]:
    """Controller, DPO and Art. 27 representatives, from settings (notice, RoPA, DPA)."""
    return {
        "company_address": settings.PROPORTRAIT_COMPANY_ADDRESS,
        "dpo_name": settings.PROPORTRAIT_DPO_NAME,
        "dpo_email": settings.PROPORTRAIT_DPO_EMAIL,
        "eu_representative": settings.PROPORTRAIT_EU_REPRESENTATIVE,
        "uk_representative": settings.PROPORTRAIT_UK_REPRESENTATIVE,
    }


def render_dpia(context: dict[str, Any]) -> bytes:
    """The DPIA (Art. 35); context from compliance.services.dpia.dpia_context()."""
    return render_pdf("dpia.html", context)


def render_cover_sheet(context: dict[str, Any]) -> bytes:
    """The Art. 15 cover sheet that goes into every access export."""
    return render_pdf("cover_sheet.html", context)
