"""The floor server for bench_web: the cheapest app that does what an upload must do at the
HTTP level (read the whole body, answer 201 with a small JSON body). Run under the same
gunicorn configuration as the product, it gives the latency that the server, the machine and
the client alone cost; the product is judged against it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

ANSWER = b'{"id": "00000000-0000-0000-0000-000000000000", "status": "queued"}'


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    stream = environ["wsgi.input"]
    remaining = int(environ.get("CONTENT_LENGTH") or 0)
    while remaining > 0:
        chunk = stream.read(min(65536, remaining))
        if not chunk:
            break
        remaining -= len(chunk)
    start_response(
        "201 Created", [("Content-Type", "application/json"), ("Content-Length", str(len(ANSWER)))]
    )
    return [ANSWER]
