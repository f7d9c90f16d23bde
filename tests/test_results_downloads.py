"""Downloads keep working on the results page; an expired or dead link is a page, never a fake file."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from PIL import Image

from portraits import services
from portraits.models import PortraitJob

pytestmark = pytest.mark.django_db


def test_it_serves_downloads_long_after_a_signed_link_would_have_expired(
    client: Client, done_job: PortraitJob, settings: Any
) -> None:
    html = client.get(f"/jobs/{done_job.id}/").content.decode()
    link = f"/jobs/{done_job.id}/portraits/2/full/"
    assert link in html
    later = timezone.now() + timedelta(seconds=settings.PROPORTRAIT_SIGNED_URL_SECONDS * 4)
    with time_machine.travel(later):
        response = client.get(link)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"] == 'attachment; filename="portrait-2-full.jpg"'
    portrait = done_job.portraits.get(variant=1)
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (portrait.width, portrait.height)


def test_it_refuses_downloads_to_another_browser(done_job: PortraitJob) -> None:
    response = Client().get(f"/jobs/{done_job.id}/portraits/1/full/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "Content-Disposition" not in response


def test_an_expired_signed_link_shows_a_page_that_says_what_to_do(
    client: Client, done_job: PortraitJob, settings: Any
) -> None:
    portrait = done_job.portraits.first()
    assert portrait is not None
    link = services.signed_portrait_url(portrait, "full")
    later = timezone.now() + timedelta(seconds=settings.PROPORTRAIT_SIGNED_URL_SECONDS + 5)
    with time_machine.travel(later):
        response = Client().get(link)
    assert response.status_code == 410
    assert response["Content-Type"].startswith("text/html")
    assert "Content-Disposition" not in response
    html = response.content.decode()
    assert "This download link has expired" in html
    assert f'href="/jobs/{done_job.id}/"' in html and "Back to my portraits" in html


def test_a_forged_link_shows_the_same_page_without_naming_a_job(done_job: PortraitJob) -> None:
    response = Client().get("/files/not-a-real-signature/")
    assert response.status_code == 410
    assert "Content-Disposition" not in response
    assert str(done_job.id) not in response.content.decode()


def test_a_link_to_deleted_portraits_says_they_are_gone(client: Client, done_job: PortraitJob) -> None:
    portrait = done_job.portraits.first()
    assert portrait is not None
    signed = services.signed_portrait_url(portrait, "full")
    client.post(f"/jobs/{done_job.id}/delete/")
    for link in (signed, f"/jobs/{done_job.id}/portraits/1/full/", f"/jobs/{done_job.id}/portraits.zip"):
        response = client.get(link)
        assert response.status_code == 410, link
        assert "Content-Disposition" not in response
        assert "These portraits are no longer available" in response.content.decode()


def test_download_all_streams_a_zip_of_every_full_resolution_portrait(
    client: Client, done_job: PortraitJob, storage_dir: Any
) -> None:
    files_before = sorted(p for p in storage_dir.rglob("*") if p.is_file())
    response = client.get(f"/jobs/{done_job.id}/portraits.zip")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="proportrait-')
    body = b"".join(response.streaming_content)  # type: ignore[arg-type]
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert names == [f"portrait-{n}.jpg" for n in range(1, 5)]
        for portrait in done_job.portraits.all():
            expected = services.read_portrait_bytes(portrait, "full")
            assert archive.read(f"portrait-{portrait.variant + 1}.jpg") == expected
    # Nothing was written: storage holds the same (ciphertext) objects as before.
    assert sorted(p for p in storage_dir.rglob("*") if p.is_file()) == files_before
    assert Client().get(f"/jobs/{done_job.id}/portraits.zip").status_code == 404
