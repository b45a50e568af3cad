"""The demo's HMI: the operator's screens served beside the simulated line, the demo accounts
to log in with, and, after the batch, serving on until Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from ebr.users import PermissionDeniedError, Role, Users
from gateway.hmi.console import LineConsole
from gateway.hmi.server import serving_hmi
from gateway.hmi.site_app import site_hmi_app
from gateway.line.testbed import SimulatedSite
from gateway.observability.http_server import HttpServeError, ListenAddress

DEMO_ACCOUNTS = (
    ("demo.qa", Role.QA, "演示质量保证 Demo QA"),
    ("demo.engineer", Role.ENGINEER, "演示工程师 Demo engineer"),
)


def ensure_account(
    users: Users, username: str, password: str, full_name: str, role: Role, admin: tuple[str, str]
) -> None:
    """`username` with `role` and `password`, made by the administrator `admin` when missing
    (its initial password changed at once, as at a first log-in)."""
    if any(account.username == username for account in users.accounts()):
        return
    initial = f"{password}-initial"
    with contextlib.suppress(PermissionDeniedError):
        users.create(
            users.login(*admin), username=username, full_name=full_name, role=role, password=initial
        )
        users.change_password(username, initial, password)


@contextlib.asynccontextmanager
async def demo_hmi(
    site: SimulatedSite, console: LineConsole, address: ListenAddress | None
) -> AsyncIterator[str | None]:
    """The HMI served on `address` while the block runs; its URL, or None when not served (no
    address, or the port is taken: a warning, and the demo goes on without it)."""
    if address is None:
        yield None
        return
    app = site_hmi_app(site.store, site.line, console)
    try:
        serving = serving_hmi(app, address)
        url = await serving.__aenter__()
    except HttpServeError as error:
        print(f"warning: the HMI is not served: {error.message}", file=sys.stderr)
        if error.hint:
            print(f"  fix: {error.hint} (e.g. --hmi 127.0.0.1:8081), or --no-hmi", file=sys.stderr)
        yield None
        return
    try:
        yield url
    finally:
        await serving.__aexit__(None, None, None)


def print_accounts(url: str, accounts: list[tuple[str, str, Path]]) -> None:
    print(f"\nHMI: open {url} in a browser (zh-CN / English switch on every page)")
    for username, role, secret in accounts:
        print(f"  {role:<9} {username:<16} password in {secret}")


async def serve_until_signal(url: str) -> None:
    """Keep serving after the batch until Ctrl-C or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"the batch is done; the HMI stays at {url} — Ctrl-C ends the demo", flush=True)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
