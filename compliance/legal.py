"""The public legal pages: each one has a version and a "last updated" date, shown at its top.

Change a page's text and you change its entry here (version + 1, today's date): the page says
when it last changed, as CCPA 11 CCR 7011(e)(4), Colorado 4 CCR 904-3 Rule 6.02 and the
Washington My Health My Data Act ask.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class LegalPage:
    slug: str
    title: str
    version: int
    updated: date
    template: str


LEGAL_PAGES: dict[str, LegalPage] = {
    page.slug: page
    for page in (
        LegalPage("privacy", "Privacy notice", 3, date(2026, 11, 30), "compliance/privacy.html"),
        LegalPage("retention", "Retention schedule", 2, date(2026, 11, 30), "compliance/retention.html"),
        LegalPage("subprocessors", "Sub-processors", 2, date(2026, 11, 30), "compliance/subprocessors.html"),
        LegalPage(
            "consumer-health-data",
            "Consumer Health Data Privacy Policy",
            1,
            date(2026, 11, 30),
            "compliance/legal/consumer_health_data.html",
        ),
        LegalPage(
            "biometric-policy",
            "Biometric identifier policy",
            1,
            date(2026, 11, 30),
            "compliance/legal/biometric_policy.html",
        ),
        LegalPage(
            "california",
            "Notice at collection for California residents",
            1,
            date(2026, 11, 30),
            "compliance/legal/california.html",
        ),
        LegalPage(
            "appeals", "Appeal a refused request", 1, date(2026, 11, 30), "compliance/legal/appeals.html"
        ),
        LegalPage(
            "audit",
            "Our audit log, signed",
            1,
            date(2026, 11, 30),
            "compliance/audit_checkpoint.html",
        ),
    )
}

#: Where a refused request can be taken after our appeal (Colorado, Texas, Virginia, Washington).
ATTORNEYS_GENERAL = (
    ("Colorado", "Colorado Attorney General", "https://coag.gov/file-complaint/"),
    ("Texas", "Texas Attorney General", "https://www.texasattorneygeneral.gov/consumer-protection"),
    ("Virginia", "Virginia Attorney General", "https://www.oag.state.va.us/consumer-protection"),
    ("Washington", "Washington State Attorney General", "https://www.atg.wa.gov/file-complaint"),
    ("California", "California Privacy Protection Agency", "https://cppa.ca.gov/webapplications/complaint"),
)
#: We answer an appeal within the strictest of the state deadlines (Colorado and Washington: 45 days).
APPEAL_ANSWER_DAYS = 45


def legal_page(slug: str) -> LegalPage:
    return LEGAL_PAGES[slug]
