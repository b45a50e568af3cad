# tracegate: `make demo` runs the product, `make test` runs every check. Both do all set-up.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
PACKAGES := serialization config drivers ebr simulators gateway
DEMO_DIR ?= var/demo

.PHONY: demo test venv system-packages services lint typecheck layers pytest bench chaos clean

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

pytest: venv
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)

test: venv services lint typecheck layers pytest

bench: venv
	$(PY) bench/codes.py
	$(PY) bench/line.py

chaos: venv services
	TRACEGATE_CHAOS_TRIALS=$${TRACEGATE_CHAOS_TRIALS:-20} $(PY) -m pytest -p no:xdist -s tests/e2e/test_line_crash.py

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache .hypothesis
