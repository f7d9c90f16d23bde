"""The legal pages a DPO needs before launch: each with a version and a last-updated date, linked
from the home page, and saying what the live system does (settings, register, deadline table)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils.html import escape

from compliance.legal import LEGAL_PAGES
from compliance.models import SubProcessor
from compliance.services.breaches import DEADLINES

pytestmark = pytest.mark.django_db

URLS = {
    "privacy": reverse("compliance:privacy"),
    "retention": reverse("compliance:retention"),
    "subprocessors": reverse("compliance:subprocessors"),
    "audit": reverse("compliance:audit_checkpoint"),
    **{
        slug: reverse("compliance:legal", args=[slug])
        for slug in ("consumer-health-data", "biometric-policy", "california", "appeals")
    },
}


@pytest.mark.parametrize("slug", sorted(URLS))
def test_every_legal_page_shows_its_version_and_date(client: Any, slug: str) -> None:
    page = LEGAL_PAGES[slug]
    response = client.get(URLS[slug])
    assert response.status_code == 200
    assert f"Version {page.version} · last updated {page.updated:%-d %B %Y}" in response.content.decode()


def test_the_home_page_links_the_health_data_policy_and_the_state_notices(client: Any) -> None:
    home = client.get("/").content.decode()
    for slug in ("consumer-health-data", "biometric-policy", "california"):
        assert URLS[slug] in home
    assert "Consumer Health Data Privacy Policy" in home


def test_the_health_data_policy_separates_collecting_from_sharing_and_never_sells(client: Any) -> None:
    page = client.get(URLS["consumer-health-data"]).content.decode()
    assert "Consent to collect is separate from consent to share" in page
    assert "We never sell consumer health data" in page
    assert "No provider receives your photo in readable form." in page
    SubProcessor.objects.create(
        name="FaceCloud Inc",
        purpose="GPU",
        location="United States",
        transfer_safeguard="SCCs",
        since="2026-01-01",
        receives_photos=True,
    )
    page = client.get(URLS["consumer-health-data"]).content.decode()
    assert "FaceCloud Inc (United States)" in page and "No provider receives" not in page


def test_the_biometric_policy_has_an_incident_response_protocol_with_the_live_deadlines(
    client: Any, settings: Any
) -> None:
    settings.PROPORTRAIT_ORIGINAL_DEADMAN_MINUTES = 9
    page = client.get(URLS["biometric-policy"]).content.decode()
    assert "Incident response protocol" in page
    for deadline in DEADLINES:
        assert escape(deadline.citation) in page
    assert "within 9 minutes" in page
    assert settings.PROPORTRAIT_DPO_EMAIL in page


def test_the_california_notice_covers_collection_limits_gpc_agents_and_unverifiable_requests(
    client: Any,
) -> None:
    page = client.get(URLS["california"]).content.decode()
    for expected in (
        "biometric information",
        "used only for permitted purposes",
        "Global Privacy Control",
        "No discrimination",
        "Authorised agents",
        "7063",
        "could not verify",
        "24 months",
    ):
        assert expected in page, expected
    assert 'id="gpc-detected"' not in page
    with_gpc = client.get(URLS["california"], HTTP_SEC_GPC="1").content.decode()
    assert 'id="gpc-detected"' in with_gpc


def test_the_appeals_page_gives_deadlines_and_attorney_general_contacts(client: Any) -> None:
    page = client.get(URLS["appeals"]).content.decode()
    assert "Within 45 days" in page
    for state in ("Colorado", "Texas", "Virginia", "Washington"):
        assert f"{state} Attorney General" in page or state in page
    assert "coag.gov" in page and "texasattorneygeneral.gov" in page


def test_the_privacy_notice_names_the_dpo_and_the_representatives(client: Any, settings: Any) -> None:
    settings.PROPORTRAIT_DPO_NAME = "Dana Privacy"
    settings.PROPORTRAIT_EU_REPRESENTATIVE = "EU Rep GmbH, Berlin"
    page = client.get(URLS["privacy"]).content.decode()
    assert "Dana Privacy" in page and settings.PROPORTRAIT_DPO_EMAIL in page
    assert "EU Rep GmbH, Berlin" in page
    assert "representative in the UK" not in page  # not appointed: not claimed


def test_unknown_or_dedicated_slugs_are_not_served_twice(client: Any) -> None:
    assert client.get(reverse("compliance:legal", args=["nothing"])).status_code == 404
    assert client.get(reverse("compliance:legal", args=["privacy"])).status_code == 404


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize(
    "slug",
    ["consumer-health-data", "biometric-policy", "california", "appeals", "audit", "verify-certificate"],
)
def test_page_images_for_the_docs(client: Any, committed: Any, slug: str, width: int, tmp_path: Any) -> None:
    """With PROPORTRAIT_WRITE_DOC_SAMPLES=1, screenshot the pages into docs/compliance/ (Chromium,
    no network: the page's own stylesheet is read as a local file)."""
    import os
    import shutil
    import subprocess
    from pathlib import Path

    from django.conf import settings

    if not os.environ.get("PROPORTRAIT_WRITE_DOC_SAMPLES") or not shutil.which("chromium"):
        pytest.skip("set PROPORTRAIT_WRITE_DOC_SAMPLES=1 (and install chromium) to refresh page images")
    from compliance import checkpoints
    from compliance.audit import record_event

    record_event("job.created", object_id="j1")
    with committed():
        checkpoints.sign_checkpoint()
    url = reverse("compliance:verify_certificate") if slug == "verify-certificate" else URLS[slug]
    static = Path(settings.BASE_DIR) / "proportrait" / "static"
    html = client.get(url).content.decode().replace('href="/static/', f'href="file://{static}/')
    page = tmp_path / "page.html"
    page.write_text(html)
    target = Path(settings.BASE_DIR) / "docs" / "compliance" / f"page-{slug}-{width}.png"
    subprocess.run(
        [
            "chromium",
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--window-size={width},1600",
            f"--screenshot={target}",
            f"file://{page}",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert target.stat().st_size > 10_000
