#!/usr/bin/env bash
# The test command (README). Installs what it needs, then runs the suite twice:
#   1. embedded default: SQLite file, local storage, filesystem broker, real worker processes;
#   2. production-like: PostgreSQL, Redis cache and Redis as Celery broker, real worker processes.
# Extra arguments go to both pytest runs. STACK=embedded or STACK=production runs one of them;
# SKIP_STATIC=1 skips ruff and mypy, which run first.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --browser || exit 1
export PATH="$PWD/.venv/bin:$PATH"

run_pytest() {
  python -m pytest "$@"
  local code=$?
  if [[ $code -eq 5 ]]; then
    echo "test: pytest collected no tests for: $*" >&2
    return 0
  fi
  return $code
}

services_up() {
  python - <<'PY'
import socket, sys
for port in (5432, 6379):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        sys.exit(1)
PY
}

start_services() {
  # The commands this machine kind documents for restarting its services.
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start 2>/dev/null || true
  fi
  if command -v redis-server >/dev/null 2>&1 && ! (echo > /dev/tcp/127.0.0.1/6379) 2>/dev/null; then
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log 2>/dev/null || true
  fi
  sleep 2
}

status=0
stack="${STACK:-both}"
if [[ -z "${SKIP_STATIC:-}" ]]; then
  echo "== static checks: ruff (lint, format) and mypy =="
  make --no-print-directory lint typecheck || status=1
fi
if [[ "$stack" == "both" || "$stack" == "embedded" ]]; then
  echo "== test run 1: embedded default (SQLite, filesystem storage and broker) =="
  run_pytest -q "$@" || status=1
fi
if [[ "$stack" == "both" || "$stack" == "production" ]]; then
  echo "== test run 2: production-like (PostgreSQL, Redis cache and broker, real worker) =="
  services_up || start_services
  if services_up; then
    # gpu_worker's own tests touch no database or broker: run 1 covers them.
    PROPORTRAIT_TEST_STACK=production run_pytest -q -m "not browser" tests accounts compliance portraits "$@" || status=1
  elif [[ "${CI:-}" == "true" ]]; then
    echo "test: PostgreSQL or Redis is not reachable on 127.0.0.1; the production-like run is required in CI" >&2
    status=1
  else
    echo "test: PostgreSQL or Redis not reachable; skipping the production-like run" >&2
  fi
fi
exit $status
