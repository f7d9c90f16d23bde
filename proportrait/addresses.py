"""One comparable form of an e-mail address, for every lookup of a person by address.

Databases compare "case-insensitively" by their own rules: PostgreSQL's UPPER() under an ICU
or libc collation folds the Turkish dotless i (U+0131) to I, so `email__iexact` found the account
victim@gmail.com for victim@gma\u0131l.com, a different (punycode) domain anyone can register.
Lookups therefore never ask the database to fold: each row stores `email_key`, computed here
once, and a lookup compares that stored key exactly.

- Local part: Unicode NFKC, then case folding (Python's full casefold, the same on every
  stack). Folding can only join addresses at the *same* domain, whose owner controls them all,
  and mail always goes to the stored address of the matched record, never to the one typed.
- Domain: IDNA 2008 with the UTS #46 mapping (non-transitional), so a look-alike domain keeps
  its own punycode form (gma\u0131l.com -> xn--gmal-nza.com), while a domain that *is* the same (upper
  case, full-width letters) maps to the same ASCII form. A domain IDNA refuses gets a key that
  can match no valid one.
"""

from __future__ import annotations

import unicodedata

import idna

#: Marks the key of a domain IDNA refuses, so that it can never equal the key of a valid domain.
INVALID_DOMAIN_PREFIX = "!invalid!"


def normalise_domain(domain: str) -> str:
    """The ASCII (punycode) form of a domain, or a key no valid domain has."""
    domain = unicodedata.normalize("NFC", domain.strip()).rstrip(".")
    try:
        return idna.encode(domain, uts46=True, transitional=False).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError, ValueError):
        return INVALID_DOMAIN_PREFIX + domain.casefold()


def normalise_email(address: str) -> str:
    """The key every lookup of a person by e-mail compares exactly (see the module docstring).

    Returns "" for something that is not an address at all (no "@", empty parts), which no
    stored key equals.
    """
    address = (address or "").strip()
    local, separator, domain = address.rpartition("@")
    if not separator or not local or not domain:
        return ""
    local_key = unicodedata.normalize("NFKC", local).casefold()
    return f"{local_key}@{normalise_domain(domain)}"
