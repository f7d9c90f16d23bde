"""Keep secrets that travel in URL paths out of every log line.

Some links carry their secret in the path, because they arrive by e-mail and must work with one
click: data exports (valid for days), deletion certificates, invitations, e-mail verification,
password reset and signed file links. A web server's access log and Django's request warnings
("Not Found: /privacy/exports/...") would otherwise keep a reusable secret for as long as logs
are kept. Two places use this module:

- `RedactingAccessLogger`, gunicorn's logger class (`-c python:proportrait.gunicorn_conf`):
  the request line, path, query and referrer of every access-log line are redacted;
- `RedactSecretPaths`, a logging filter on the root handler (settings.LOGGING): any record whose
  message holds such a path is redacted before it is written.
"""

from __future__ import annotations

import logging
import re
from typing import Any

REDACTED = "[redacted]"

#: Path prefixes whose following segments are secrets, with the segments that are not (fixed
#: page names under the same prefix).
SECRET_PATH_PREFIXES: dict[str, frozenset[str]] = {
    "/privacy/exports/": frozenset(),
    "/privacy/certificates/": frozenset(),
    "/accounts/invitations/": frozenset(),
    "/accounts/verify/": frozenset(),
    "/accounts/password-reset/": frozenset({"sent", "done"}),
    "/files/": frozenset(),
}

_PATTERN = re.compile(
    "(" + "|".join(re.escape(prefix) for prefix in SECRET_PATH_PREFIXES) + r")([^\s\"'?#]*)(\?[^\s\"']*)?"
)


def _redact_match(match: re.Match[str]) -> str:
    prefix, rest = match.group(1), match.group(2)
    keep = SECRET_PATH_PREFIXES[prefix]
    segments = [segment if (not segment or segment in keep) else REDACTED for segment in rest.split("/")]
    # A query string after a secret path can carry the secret too (or a next= pointing at one).
    query = f"?{REDACTED}" if match.group(3) else ""
    return prefix + "/".join(segments) + query


def redact_secrets(text: str) -> str:
    """`text` with the secret segments of every secret-bearing path replaced by [redacted]."""
    if not text or "/" not in text:
        return text
    return _PATTERN.sub(_redact_match, text)


class RedactSecretPaths(logging.Filter):
    """A logging filter: formats the record once, redacted, so no handler sees the secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's business, not ours
            return True
        redacted = redact_secrets(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def _redacted_atoms(atoms: dict[str, Any]) -> dict[str, Any]:
    for key in ("r", "U", "q", "f", "{referer}i", "{raw_uri}e", "{path_info}e", "{query_string}e"):
        value = atoms.get(key)
        if isinstance(value, str):
            atoms[key] = redact_secrets(value)
    if atoms.get("q") and redact_secrets(str(atoms.get("U", ""))) != atoms.get("U"):
        atoms["q"] = REDACTED
    return atoms


try:
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # gunicorn is the production web server; tests may import this without it
    _GunicornLogger = object  # type: ignore[assignment,misc]


class RedactingAccessLogger(_GunicornLogger):  # type: ignore[misc,valid-type]
    """gunicorn's logger with secret-bearing paths redacted from each access-log line."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        return _redacted_atoms(super().atoms(resp, req, environ, request_time))
