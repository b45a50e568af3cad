"""`tracegate users bootstrap-admin | list`: the site's accounts.

Day-to-day account management (create, reset, unlock, deactivate) needs an administrator's
session and goes through `ebr.users.Users`; the CLI covers the first account and the listing.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from ebr.users import Users
from gateway.commands.audit import add_database_arguments, open_trail
from gateway.commands.common import fail


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("users", help="user accounts and roles")
    sub = parser.add_subparsers(dest="users_command", required=True)

    boot = sub.add_parser("bootstrap-admin", help="create the first administrator of a site")
    add_database_arguments(boot)
    boot.add_argument("--username", required=True)
    boot.add_argument("--full-name", required=True)
    boot.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input instead of a prompt",
    )
    boot.set_defaults(run=run_bootstrap)

    listing = sub.add_parser("list", help="every account, active or not (ids are never reused)")
    add_database_arguments(listing)
    listing.set_defaults(run=run_list)


def run_bootstrap(args: argparse.Namespace) -> int:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            fail("the two passwords differ", hint="type the same password twice")
    trail = open_trail(args)
    try:
        user_id = Users(trail).bootstrap_administrator(args.username, args.full_name, password)
    finally:
        trail.engine.dispose()
    print(f"created administrator {args.username} (id {user_id})")
    return 0


def run_list(args: argparse.Namespace) -> int:
    trail = open_trail(args)
    try:
        accounts = Users(trail).accounts()
    finally:
        trail.engine.dispose()
    for user in accounts:
        flags = [
            name for name, on in (("locked", user.locked), ("inactive", not user.active)) if on
        ]
        suffix = f" [{', '.join(flags)}]" if flags else ""
        print(f"{user.id:>5} {user.username:<20} {user.role.value:<13} {user.full_name}{suffix}")
    return 0
