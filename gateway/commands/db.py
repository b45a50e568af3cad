"""`tracegate db upgrade --config FILE`: migrate the site's database to this version."""

from __future__ import annotations

import argparse
from pathlib import Path

from ebr.db import make_engine
from ebr.schema import current_revision, head_revision, upgrade
from gateway.commands.common import load_config


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("db", help="the site database")
    sub = parser.add_subparsers(dest="db_command", required=True)
    up = sub.add_parser("upgrade", help="migrate the database to the current schema")
    up.add_argument("--config", type=Path, required=True)
    up.set_defaults(run=run_upgrade)


def run_upgrade(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    engine = make_engine(config.database_url)
    try:
        before = current_revision(engine)
        upgrade(engine)
        print(f"database schema: {before or 'empty'} -> {head_revision(engine)}")
    finally:
        engine.dispose()
    return 0
