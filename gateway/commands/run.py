"""`tracegate run`: run a batch on a line with its real (or simulated) devices."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
from pathlib import Path

from ebr.audit.actor import Actor
from ebr.catalog import BatchInfo, batch_info
from ebr.users import Session, UserError, Users
from gateway.allocator import keep_trimmed
from gateway.commands.common import fail, load_config
from gateway.line.clearance import ClearanceSigner, clearance_signer
from gateway.line.ebr_clearance import ClearanceVerifier, clearance_verifier
from gateway.line.session import one_line, run_batch_until_signal, write_report
from gateway.observability.http_server import HttpServeError, parse_listen_address
from gateway.site_store import SiteStore, open_site_store

PASSWORD_ENV = "TRACEGATE_OPERATOR_PASSWORD"  # noqa: S105 - the variable's name, not a secret
VERIFIER_PASSWORD_ENV = "TRACEGATE_VERIFIER_PASSWORD"  # noqa: S105 - the variable's name


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
        "--verifier",
        help="a second person who verifies the line clearance in the batch record (password "
        f"from {VERIFIER_PASSWORD_ENV} or asked); without one the record waits at clearance",
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help="confirm the clearance checklist without asking (the operator has checked it)",
    )
    parser.add_argument("--units", type=int, help="complete the batch after this many codes")
    parser.add_argument("--report", type=Path, help="write the JSON report here")
    parser.add_argument(
        "--http",
        metavar="HOST:PORT",
        help="serve /metrics, /healthz and /readyz here while the batch runs",
    )
    parser.set_defaults(run=run)


def _login(store: SiteStore, username: str, env: str, who: str) -> tuple[Users, Session, str]:
    password = os.environ.get(env)
    if password is None:
        password = getpass.getpass(f"password for {username}: ")
    users = Users(store.audit)
    try:
        return users, users.login(username, password), password
    except UserError as error:
        fail(f"{who} {username!r} cannot log in: {error}", hint=getattr(error, "hint", None))


def operator_login(store: SiteStore, username: str) -> tuple[Actor, ClearanceSigner]:
    """The operator logged in, and the signer of their line clearance (the same password)."""
    users, session, password = _login(store, username, PASSWORD_ENV, "operator")
    actor = Actor(user_id=session.user_id, username=session.username)
    return actor, clearance_signer(users, store.audit, session, password)


def verifier_login(store: SiteStore, username: str) -> ClearanceVerifier:
    """The second person logged in, who verifies the clearance with their own password."""
    users, session, password = _login(store, username, VERIFIER_PASSWORD_ENV, "verifier")
    return clearance_verifier(users, store.audit, session, password)


def _batch(store: SiteStore, batch_id: int) -> BatchInfo:
    info = batch_info(store.engine, batch_id)
    if info is None:
        fail(
            f"unknown batch {batch_id}", hint="create it first (tracegate codes …) or check the id"
        )
    return info


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    try:
        http = parse_listen_address(args.http) if args.http else None
    except HttpServeError as error:
        fail(error.message, hint=error.hint)
    store = open_site_store(config)
    try:
        batch = _batch(store, args.batch)
        line = config.line(args.line or batch.line_id)
        actor, signer = operator_login(store, args.operator)
        verifier = verifier_login(store, args.verifier) if args.verifier else None
        if not args.yes:
            for item in line.runtime.clearance_checklist:
                answer = input(f"line clearance: {item}? [y/N] ").strip().lower()
                if answer not in ("y", "yes"):
                    fail("line clearance not confirmed", hint="clear the line, then run again")
        try:
            keep_trimmed()
            report = asyncio.run(
                run_batch_until_signal(
                    store,
                    line,
                    batch.id,
                    actor,
                    units=args.units,
                    progress=lambda report: print(one_line(report), flush=True),
                    signer=signer,
                    verifier=verifier,
                    http=http,
                )
            )
        except HttpServeError as error:
            fail(error.message, hint=error.hint)
        print(one_line(report))
        write_report(report, args.report)
    finally:
        store.close()
    if report.get("stopped_by_alarm"):
        fail(
            str(report["stopped_by_alarm"]),
            hint="the batch is held: clear the cause (see the alarm and the log), then run "
            "`tracegate run` again for this batch; it resumes where it stopped",
        )
    return 0
