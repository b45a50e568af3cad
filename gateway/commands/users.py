"""`tracegate users bootstrap-admin | list | set-badge`: the site's accounts.

Day-to-day account management (create, reset, unlock, deactivate) needs an administrator's
session and goes through `ebr.users.Users`; the CLI covers the first account, the listing and
an operator's badge + PIN (the administrator logs in for it; `Users` audits the change).
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

    badge = sub.add_parser(
        "set-badge", help="give an operator a badge and PIN for badge log-in (administrators)"
    )
    add_database_arguments(badge)
    badge.add_argument("--username", required=True, help="the operator's user name")
    badge.add_argument("--badge", required=True, help="the badge's text, as its scanner sends it")
    badge.add_argument("--admin", required=True, help="the administrator making the change")
    badge.add_argument("--reason", required=True, help="why (recorded in the audit trail)")
    badge.add_argument(
        "--secrets-stdin",
        action="store_true",
        help="read the administrator's password, then the PIN, from two lines of standard input "
        "instead of prompts",
    )
    badge.set_defaults(run=run_set_badge)


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


def run_set_badge(args: argparse.Namespace) -> int:
    if args.secrets_stdin:
        password = sys.stdin.readline().rstrip("\n")
        pin = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password of {args.admin}: ")
        pin = getpass.getpass(f"new PIN of {args.username}: ")
        if getpass.getpass("PIN again: ") != pin:
            fail("the two PINs differ", hint="type the same PIN twice")
    if not pin:
        fail("no PIN given", hint="give the PIN on the second line of standard input")
    trail = open_trail(args)
    try:
        users = Users(trail)
        account = next((u for u in users.accounts() if u.username == args.username), None)
        if account is None:
            fail(f"no user {args.username!r}", hint="`tracegate users list` shows the accounts")
        admin = users.login(args.admin, password)
        try:
            users.set_badge(admin, account.id, args.badge, pin, reason=args.reason)
        finally:
            users.logout(admin)
    finally:
        trail.engine.dispose()
    print(f"badge and PIN set for {args.username} (id {account.id})")
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
