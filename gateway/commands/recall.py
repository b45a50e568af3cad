"""`tracegate recall`: mark a batch, or the codes listed in a file, recalled (docs/trace.md)."""

from __future__ import annotations

import argparse
import getpass
import os
from collections import Counter
from pathlib import Path

from ebr.code_lookup import UnknownCodeError, find_code_key
from ebr.recall import RecallOutcome, recall_batch, recall_codes
from ebr.users import Session, UserError, Users
from gateway.commands.codes import recognition_context
from gateway.commands.common import fail, load_config
from gateway.site_store import SiteStore, open_site_store

PASSWORD_ENV = "TRACEGATE_USER_PASSWORD"  # noqa: S105 - the variable's name, not a secret
MAX_PROBLEMS_SHOWN = 20


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "recall",
        help="mark a batch or a list of codes recalled (QA or supervisor)",
        description="Saleable codes become recalled (Inactive) with everything packed in them; "
        "sampled, destroyed and never-printed codes stay as they are. The user's password is "
        f"read from {PASSWORD_ENV}, or asked for.",
    )
    parser.add_argument("--config", type=Path, required=True, help="the site file")
    scope = parser.add_mutually_exclusive_group(required=True)
    scope.add_argument("--batch", type=int, help="recall the whole batch")
    scope.add_argument(
        "--codes",
        type=Path,
        help="a text file with one code per line (as printed, or its key; # starts a comment)",
    )
    parser.add_argument("--reason", required=True, help="why the codes are recalled")
    parser.add_argument("--user", required=True, help="the QA person's or supervisor's user name")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    codes_text = _read_codes_file(args.codes) if args.codes is not None else None
    store = open_site_store(config)
    try:
        keys = _keys(store, args.codes, codes_text) if codes_text is not None else None
        users = Users(store.audit)
        session = _login(users, args.user)
        try:
            if keys is None:
                outcome = recall_batch(
                    store.engine, session, args.batch, reason=args.reason, audit=store.audit
                )
            else:
                outcome = recall_codes(
                    store.engine, session, keys, reason=args.reason, audit=store.audit
                )
        finally:
            users.logout(session)
    finally:
        store.close()
    _report(outcome)
    return 0


def _read_codes_file(path: Path) -> list[tuple[int, str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"{path}: no such file", hint="give a text file with one code per line")
    except UnicodeDecodeError as error:
        fail(
            f"{path}: not UTF-8 text ({error.reason} at byte {error.start})",
            hint="save the list as UTF-8 text, one code per line",
        )
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror}", hint="check the file and its rights")
    lines = [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.strip().startswith("#")
    ]
    if not lines:
        fail(f"{path} lists no code", hint="one code per line; lines starting with # are comments")
    return lines


def _keys(store: SiteStore, path: Path, lines: list[tuple[int, str]]) -> list[str]:
    context = recognition_context(store.config)
    keys: list[str] = []
    problems: list[str] = []
    for number, text in lines:
        try:
            keys.append(find_code_key(store.engine, text, context))
        except UnknownCodeError as error:
            problems.append(f"{path} line {number}: {error.message}")
    if problems:
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        fail(
            "; ".join(shown) + (f"; and {more} more" if more else ""),
            hint="correct or remove those lines; nothing was recalled",
        )
    return keys


def _login(users: Users, username: str) -> Session:
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        password = getpass.getpass(f"password for {username}: ")
    try:
        return users.login(username, password)
    except UserError as error:
        fail(f"{username!r} cannot log in: {error.message}", hint=error.hint)


def _report(outcome: RecallOutcome) -> None:
    batches = sorted({batch for batch, _seq in outcome.entries})
    where = ", ".join(f"batch {batch}" for batch in batches)
    if outcome.recalled:
        print(f"recalled {len(outcome.recalled)} codes of {where}")
        for batch, seq in outcome.entries:
            print(f"  journal: batch {batch} seq {seq} (codes.recalled)")
    else:
        print("nothing new to recall")
    if outcome.already_recalled:
        print(f"  {len(outcome.already_recalled)} codes were recalled before")
    if outcome.unchanged:
        counted = Counter(outcome.unchanged.values())
        states = ", ".join(f"{count} {state}" for state, count in sorted(counted.items()))
        print(f"  left as they are (no product on the market): {states}")
