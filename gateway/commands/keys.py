"""`tracegate keys create FILE`: the site's FF1 serial master key."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from gateway.commands.common import fail
from serialization.serials import make_master_key


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("keys", help="serial number keys")
    sub = parser.add_subparsers(dest="keys_command", required=True)
    create = sub.add_parser(
        "create",
        help="create the FF1 serial master key (64 hex digits, readable by its owner only)",
    )
    create.add_argument("file", type=Path)
    create.set_defaults(run=create_key)


def create_key(args: argparse.Namespace) -> int:
    path: Path = args.file
    write_new_key(path)
    print(f"created {path} (owner read/write only); keep a copy in the plant's key escrow")
    return 0


def write_new_key(path: Path) -> None:
    """Write a fresh key, never over an existing one: serials made with it depend on it."""
    if path.exists():
        fail(
            f"{path} exists already; a serial key is never replaced in place",
            hint="codes already issued depend on it; choose another file name to rotate",
        )
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(make_master_key().hex() + "\n")
