"""Public privacy notice and retention schedule (BIPA 15(a), Colorado, GDPR Arts. 13-14), rendered from
the same settings the purge jobs enforce; the schema documents our endpoints without warnings."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_retention_page_and_api_follow_the_settings_the_purge_enforces(
    client: Any, settings: Any
) -> None:
    settings.PROPORTRAIT_ANONYMOUS_RETENTION_HOURS = 24
    settings.PROPORTRAIT_ORIGINAL_DEADMAN_MINUTES = 15
    page = client.get(reverse("compliance:retention")).content.decode()
    api = client.get("/api/v1/retention-policy/").json()
    assert "Deleted 24 hours after they are made" in page and "longer than 15 minutes" in page
    assert api["anonymous_results_hours"] == 24 and api["original_photo_minutes"] == 15

    settings.PROPORTRAIT_ANONYMOUS_RETENTION_HOURS = 6
    settings.PROPORTRAIT_ORIGINAL_DEADMAN_MINUTES = 5
    settings.PROPORTRAIT_ACCOUNT_RETENTION_DAYS = 30
    page = client.get(reverse("compliance:retention")).content.decode()
    api = client.get("/api/v1/retention-policy/").json()

    assert "Deleted 6 hours after they are made" in page and "24 hours" not in page
    assert "longer than 5 minutes" in page and "Deleted 30 days after" in page
    assert api["anonymous_results_hours"] == 6 and api["original_photo_minutes"] == 5
    entry = next(e for e in api["entries"] if e["key"] == "anonymous_results")
    assert entry["limit"] == {"value": 6, "unit": "hour"}
    privacy = client.get(reverse("compliance:privacy")).content.decode()
    assert "Deleted 6 hours after they are made" in privacy


def test_the_retention_schedule_covers_every_kind_of_data_we_keep(client: Any) -> None:
    keys = {e["key"] for e in client.get("/api/v1/retention-policy/").json()["entries"]}
    assert {
        "original_photo",
        "face_geometry",
        "anonymous_results",
        "account_results",
        "consent_records",
        "dsar_codes",
        "dsar_unverified",
        "dsar_records",
        "data_exports",
        "audit_log",
    } <= keys


def test_the_retention_page_states_destruction_guidelines_and_the_bipa_limit(client: Any) -> None:
    page = client.get(reverse("compliance:retention")).content.decode()
    assert "Destruction guidelines" in page and "3 years" in page and "crypto-shredding" in page
    assert "incident response" in page  # Colorado C.R.S. 6-1-1314


def test_the_privacy_notice_covers_purpose_sharing_rights_and_ai_marking(client: Any) -> None:
    page = client.get(reverse("compliance:privacy")).content.decode()
    for text in [
        "explicit, written consent",
        "never train",
        "do not sell",
        "Withdraw consent",
        "data rights form",
        "Complain",
        "trainedAlgorithmicMedia",
        "sub-processors",
        "privacy@proportrait.example",
        "ProPortrait AI Ltd",
    ]:
        assert text in page, text
    assert "SHA-256 of this text" in page  # the consent notice in full, with its hash


def test_the_sub_processor_page_lists_the_register(client: Any) -> None:
    page = client.get(reverse("compliance:subprocessors")).content.decode()
    for text in [
        "Hetzner Online GmbH",
        "Amazon Web Services",
        "Frankfurt",
        "Standard Contractual Clauses",
        "Version 1",
    ]:
        assert text in page


@pytest.mark.parametrize("name", ["privacy", "retention", "dsar", "subprocessors"])
def test_public_pages_load_nothing_from_a_third_party(client: Any, name: str) -> None:
    response = client.get(reverse(f"compliance:{name}"))
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r'(src|href)="https?://', html)
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "<script" not in html or 'src="/' in html


def test_the_schema_documents_our_endpoints_without_warnings(
    client: Any, capsys: pytest.CaptureFixture
) -> None:
    from django.core.management import call_command

    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--urlconf",
        "compliance.tests.schema_urls",
        "--file",
        "/dev/null",
    )
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    body = response.content.decode()
    for path in [
        "/api/v1/dsar/",
        "/api/v1/dsar/{request_id}/verify/",
        "/api/v1/retention-policy/",
        "/api/v1/consent/current/",
    ]:
        assert path in body


@pytest.mark.parametrize(("name", "width"), [("dsar", 1280), ("retention", 1280), ("dsar", 390)])
def test_page_images_for_the_docs(client: Any, name: str, width: int, tmp_path: Any) -> None:
    """With PROPORTRAIT_WRITE_DOC_SAMPLES=1, screenshot public pages into docs/compliance/ (Chromium,
    no network: the page's own stylesheet is inlined as a local file)."""
    import os
    import shutil
    import subprocess
    from pathlib import Path

    from django.conf import settings

    if not os.environ.get("PROPORTRAIT_WRITE_DOC_SAMPLES") or not shutil.which("chromium"):
        pytest.skip("set PROPORTRAIT_WRITE_DOC_SAMPLES=1 (and install chromium) to refresh page images")
    static = Path(settings.BASE_DIR) / "proportrait" / "static"
    html = client.get(reverse(f"compliance:{name}")).content.decode()
    html = html.replace('href="/static/', f'href="file://{static}/')
    page = tmp_path / "page.html"
    page.write_text(html)
    target = Path(settings.BASE_DIR) / "docs" / "compliance" / f"page-{name}-{width}.png"
    subprocess.run(
        [
            "chromium",
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--window-size={width},1400",
            f"--screenshot={target}",
            f"file://{page}",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert target.stat().st_size > 10_000
