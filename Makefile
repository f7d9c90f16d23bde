.PHONY: run test lint typecheck bench

# Run the product on the embedded default: web + worker + scheduler. Ctrl-C stops all.
run:
	scripts/bootstrap.sh
	.venv/bin/python scripts/run_embedded.py

# Install what is needed, then run the whole test suite (embedded and production-like stacks).
test:
	scripts/test.sh

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

# mypy's Django plugin imports the settings, which need (any) keys.
typecheck:
	SECRET_KEY=typecheck PROPORTRAIT_MASTER_KEYS=typecheck:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
	PROPORTRAIT_AUDIT_HMAC_KEYS=typecheck:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
	PROPORTRAIT_AUDIT_SIGNING_KEYS=typecheck:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
	PROPORTRAIT_VAR_DIR=$${TMPDIR:-/tmp}/proportrait-typecheck \
	.venv/bin/mypy proportrait portraits gpu_worker compliance accounts

bench:
	.venv/bin/python bench/bench_studio.py
	.venv/bin/python bench/bench_web.py
