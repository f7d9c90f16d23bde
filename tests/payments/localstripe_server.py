"""Start localstripe (GPL, test-only, never shipped) on 127.0.0.1 with its state in memory only.

localstripe normally pickles its store to /tmp/localstripe.pickle on every write and listens on
all interfaces; on a shared machine two test runs would read each other's objects. This runner
keeps the store in memory and binds the loopback address only.

    python -m tests.payments.localstripe_server PORT
"""

from __future__ import annotations

import sys

from aiohttp import web
from localstripe import resources
from localstripe.server import app


def main() -> None:
    port = int(sys.argv[1])
    resources.Store.dump_to_disk = lambda self: None  # type: ignore[method-assign]
    resources.Store.try_load_from_disk = lambda self: None  # type: ignore[method-assign]
    web.run_app(app, host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    main()
