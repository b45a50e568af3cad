"""`tracegate run`: run a batch on a line with its real (or simulated) devices."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
from pathlib import Path

from ebr.audit.actor import Actor
from ebr.catalog import BatchInfo, batch_info
from ebr.users import UserError, Users
from gateway.commands.common import fail, load_config
from gateway.line.session import one_line, run_batch_until_signal, write_report
from gateway.site_store import SiteStore, open_site_store

PASSWORD_ENV = "TRACEGATE_OPERATOR_PASSWORD"  # noqa: S105 - the variable's name, not a secret


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "run",
        help="run a batch on a line: clearance, vision challenge, production, reconciliation",
        description=(
            "Logs the operator in, confirms the line clearance checklist, runs the vision "
            "challenge and starts the line. With --units the batch is completed and reconciled "
            "after that many codes; otherwise it runs until Ctrl-C, which holds the batch."
        ),
    )
    parser.add_argument("--config", type=Path, required=True, help="the site file")
    parser.add_argument("--line", help="the line (default: the batch's line)")
    parser.add_argument("--batch", type=int, required=True, help="the batch id")
    parser.add_argument("--operator", required=True, help="the operator's user name")
    parser.add_argument(
        "--yes",
        action="store_true",
        help="confirm the clearance checklist without asking (the operator has checked it)",
    )
    parser.add_argument("--units", type=int, help="complete the batch after this many codes")
    parser.add_argument("--report", type=Path, help="write the JSON report here")
    parser.set_defaults(run=run)


def operator_actor(store: SiteStore, username: str) -> Actor:
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        password = getpass.getpass(f"password for {username}: ")
    try:
        session = Users(store.audit).login(username, password)
    except UserError as error:
        fail(f"operator {username!r} cannot log in: {error}", hint=getattr(error, "hint", None))
    return Actor(user_id=session.user_id, username=session.username)


def _batch(store: SiteStore, batch_id: int) -> BatchInfo:
    info = batch_info(store.engine, batch_id)
    if info is None:
        fail(
            f"unknown batch {batch_id}", hint="create it first (tracegate codes …) or check the id"
        )
    return info


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    store = open_site_store(config)
    try:
        batch = _batch(store, args.batch)
        line = config.line(args.line or batch.line_id)
        actor = operator_actor(store, args.operator)
        if not args.yes:
            for item in line.runtime.clearance_checklist:
                answer = input(f"line clearance: {item}? [y/N] ").strip().lower()
                if answer not in ("y", "yes"):
                    fail("line clearance not confirmed", hint="clear the line, then run again")
        report = asyncio.run(
            run_batch_until_signal(
                store,
                line,
                batch.id,
                actor,
                units=args.units,
                progress=lambda report: print(one_line(report), flush=True),
            )
        )
        print(one_line(report))
        write_report(report, args.report)
    finally:
        store.close()
    return 0
