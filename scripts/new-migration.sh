#!/usr/bin/env bash
# Usage: scripts/new-migration.sh REV_ID "message" — autogenerates ebr/migrations/versions/REV_ID_*.py
# by comparing the models with a scratch SQLite database migrated to the current head.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python - "$1" "$2" <<'PY'
import sys, tempfile
from alembic import command
from ebr.db import make_engine
from ebr.schema import alembic_config, upgrade
engine = make_engine(f"sqlite:///{tempfile.mkdtemp()}/scratch.db")
upgrade(engine)
command.revision(alembic_config(engine), message=sys.argv[2], autogenerate=True, rev_id=sys.argv[1])
PY
.venv/bin/ruff format -q ebr/migrations
.venv/bin/ruff check --fix -q ebr/migrations || true
