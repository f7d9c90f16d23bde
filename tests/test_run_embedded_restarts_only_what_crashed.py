"""`scripts/run_embedded.py` keeps the product up: a crashed worker is restarted on its own,
with backoff, and the web process keeps serving (a full disk once took everything down)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from tests.support import REPO, wait_for


def load_runner() -> Any:
    spec = importlib.util.spec_from_file_location("run_embedded", REPO / "scripts" / "run_embedded.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_embedded"] = module
    spec.loader.exec_module(module)
    return module


def test_a_crashing_worker_is_restarted_and_the_web_process_keeps_running(tmp_path: Path) -> None:
    runner = load_runner()
    starts = tmp_path / "worker-starts"
    commands = {
        "web": [sys.executable, "-c", "import time; time.sleep(60)"],
        # Dies at once, every time, like a worker choking on a broken file.
        "worker": [sys.executable, "-c", f"open({str(starts)!r}, 'a').write('x'); raise SystemExit(3)"],
    }
    supervisor = runner.Supervisor(commands, cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    supervisor.backoff_seconds = (0.2, 0.2)
    supervisor.start_all()
    web = supervisor.services["web"].process
    try:

        def restarted_twice() -> bool:
            supervisor.check()
            return starts.exists() and len(starts.read_text()) >= 3

        assert wait_for(restarted_twice, timeout=30, interval=0.05)
        # The web process is the very same one, still running.
        assert supervisor.services["web"].process is web
        assert web.poll() is None
        assert supervisor.services["worker"].crashes >= 2
    finally:
        supervisor.stop_all(timeout_seconds=5)
    assert web.poll() is not None  # Ctrl-C still stops everything
