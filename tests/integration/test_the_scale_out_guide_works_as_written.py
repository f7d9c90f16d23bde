"""The README's "At scale" block, run as written (scripts/check_scale_out.py): PostgreSQL, Redis,
S3 through a local moto server, gunicorn, separate default and gpu workers and beat. A job ends
done, the bucket holds only ciphertext, the original object is gone and its key shredded.
Production-like run only (it needs PostgreSQL and Redis)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support import REPO

pytestmark = [pytest.mark.integration, pytest.mark.production_stack, pytest.mark.slow]


@pytest.mark.skipif(
    os.environ.get("PROPORTRAIT_TEST_STACK") != "production", reason="needs PostgreSQL and Redis"
)
def test_the_readme_scale_out_stack_processes_a_job_and_keeps_only_ciphertext() -> None:
    env = {key: value for key, value in os.environ.items() if key != "PROPORTRAIT_TEST_DATABASE_NAME"}
    result = subprocess.run(
        [sys.executable, "scripts/check_scale_out.py"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=540,
    )
    output = result.stdout[result.stdout.index("{") :] if "{" in result.stdout else ""
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-3000:])
    checks = json.loads(output)
    assert checks and all(checks.values()), checks
    assert set(checks) >= {
        "job_done",
        "backend_recorded_is_the_gpu_workers",
        "no_original_object_in_bucket",
        "only_ciphertext_in_bucket",
        "original_key_shredded",
        "default_worker_loaded_no_generator",
    }
