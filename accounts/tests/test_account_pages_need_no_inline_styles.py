"""The site's CSP (style-src 'self', script-src 'self') blocks inline styles and scripts, so the
account and team pages carry none: their page rules live in accounts.css."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse

from accounts import teams
from accounts.tests.conftest import consent_act, logged_in_client, verified_client
from accounts.tests.test_teams import anonymous_job_for_member

TEMPLATES = Path(settings.BASE_DIR) / "templates" / "accounts"
INLINE = re.compile(r"""\sstyle\s*=|<style\b|<script(?![^>]*\ssrc=)[^>]*>|\son[a-z]+\s*=|javascript:""", re.I)
STYLESHEET = '<link rel="stylesheet" href="/static/proportrait/accounts.css">'


def test_it_keeps_inline_styles_and_scripts_out_of_every_account_template():
    offending = {
        path.name: INLINE.findall(path.read_text())
        for path in sorted(TEMPLATES.glob("*.html"))
        if INLINE.search(path.read_text())
    }
    assert offending == {}


def test_it_styles_the_dashboard_table_from_the_stylesheet(team):
    page = verified_client(team.admin).get(reverse("accounts:org_dashboard", args=[team.organisation.slug]))

    html = page.content.decode()
    assert page.status_code == 200
    assert STYLESHEET in html
    assert 'class="table-scroll"' in html
    assert not INLINE.search(html)


def test_it_styles_the_portrait_picker_from_the_stylesheet(team):
    teams.give_member_consent(team.member_membership, consent_act())
    anonymous_job_for_member(team)

    page = logged_in_client(team.member).get(reverse("accounts:team_member", args=[team.organisation.slug]))

    html = page.content.decode()
    assert "Pick your favourite" in html
    assert STYLESHEET in html
    assert 'class="portrait-choices"' in html
    assert 'class="portrait-choice"' in html
    assert " style=" not in html


def test_it_ships_the_rules_the_pages_use():
    path = finders.find("proportrait/accounts.css")
    assert path is not None
    css = Path(str(path)).read_text()
    for selector in (".table-scroll", ".portrait-choices", ".portrait-choice"):
        assert selector + " {" in css
