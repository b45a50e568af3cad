# tracegate: `make demo` runs the product, `make test` runs every check. Both do all set-up.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
PACKAGES := serialization config drivers ebr simulators gateway
DEMO_DIR ?= var/demo

.PHONY: demo test venv system-packages services lint typecheck layers audit pytest bench chaos soak fuzz clean

venv: $(STAMP)

$(STAMP): pyproject.toml scripts/system-packages.sh
	@test -n "$(PYTHON)" || { echo "error: Python >= 3.11 not found; install python3 (>= 3.11) and retry" >&2; exit 1; }
	@bash scripts/system-packages.sh
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

system-packages:
	@bash scripts/system-packages.sh

services:
	@bash scripts/ensure-services.sh

demo: venv
	$(VENV)/bin/tracegate demo --dir $(DEMO_DIR)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv
	$(VENV)/bin/mypy

layers: venv
	$(VENV)/bin/lint-imports

# Known vulnerabilities in the installed packages fail; an unreachable audit service is
# reported as DEPENDENCY AUDIT SKIPPED and does not.
audit: venv
	$(PY) scripts/audit_dependencies.py

pytest: venv
	TRACEGATE_TEST_ARTIFACTS=$${TRACEGATE_TEST_ARTIFACTS:-$(CURDIR)/var/test-artifacts} \
		$(PY) -m pytest -n 3 --dist loadgroup $(PYTEST_ARGS)

test: venv services lint typecheck layers audit pytest

bench: venv
	$(PY) bench/codes.py
	$(PY) bench/line.py
	$(PY) bench/reconcile.py

# The fault campaign (docs/reliability.md): 50 kills, 10 device faults, 3 uplink outages, clock
# jumps, slow fsync, a full disk; invariants after each trial; JSON report in var/chaos/.
chaos: venv services
	$(PY) -m chaos.run --report $${CHAOS_REPORT:-var/chaos/report.json} $(CHAOS_ARGS)

# SOAK_MINUTES (default 60) at 600 units/min with periodic faults; report var/chaos/soak.json.
soak: venv services
	$(PY) -m chaos.soak --minutes $${SOAK_MINUTES:-60} --report var/chaos/soak.json

# Every parser of outside input with large budgets (atheris if installed, else hypothesis);
# FUZZ_EXAMPLES per target, default 20000. JSON summary on stdout; then schemathesis against
# the HTTP API's OpenAPI document, FUZZ_API_EXAMPLES per operation (default 500); docs/fuzzing.md.
fuzz: venv
	$(PY) fuzz/run.py
	FUZZ_API_EXAMPLES=$${FUZZ_API_EXAMPLES:-500} FUZZ_API_RANDOM=1 $(PY) -m pytest -q -p no:cacheprovider -p no:xdist tests/fuzz/test_http_api_schemathesis.py

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache .hypothesis
