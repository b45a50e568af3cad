"""`tracegate demo` (the line): simulators in their own process, the gateway running a batch.

The simulated line listens where the demo site file puts its devices; the gateway connects to
it over OPC UA and TCP exactly as to a real line, runs one batch of the demo's GS1 product
with the operator's clearance and the vision challenge, and writes a JSON report.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ebr.audit.actor import Actor
from ebr.catalog import create_batch
from ebr.users import Users
from gateway.commands.common import fail
from gateway.line.session import one_line, run_batch, write_report
from gateway.site_store import SiteStore

DEMO_PRODUCT = "amox-250-24"
DEMO_OPERATOR = "demo.operator"
SIMULATOR_READY_S = 60.0


def demo_operator(store: SiteStore, directory: Path) -> Actor:
    """The demo's operator account; its password is kept in the demo folder (demo only)."""
    secret = directory / "keys" / "demo-operator.password"
    users = Users(store.audit)
    if not secret.exists():
        password = "Demo-" + secrets.token_urlsafe(12)
        users.bootstrap_administrator(DEMO_OPERATOR, "演示操作员 Demo operator", password)
        secret.parent.mkdir(parents=True, exist_ok=True)
        secret.write_text(password, encoding="utf-8")
        secret.chmod(0o600)
    session = users.login(DEMO_OPERATOR, secret.read_text(encoding="utf-8").strip())
    return Actor(user_id=session.user_id, username=session.username)


def demo_batch(store: SiteStore, lot: str) -> int:
    today = datetime.now(UTC).date()
    return create_batch(
        store.engine,
        product_id=DEMO_PRODUCT,
        line_id=store.config.lines[0].id,
        lot=lot,
        expiry=store.config.expiry_for(DEMO_PRODUCT, today),
        production_date=today,
        planned_quantity=None,
        audit=store.audit,
    )


def start_simulators(site_file: Path, args: Any, log_file: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "gateway.cli",
        "simulate",
        "line",
        "--config",
        str(site_file),
        "--rate",
        str(args.rate),
        "--print-defects",
        str(args.defects),
        "--camera-faults",
        str(args.defects / 4),
        "--gate-distance",
        "8",
        "--no-autostart",
    ]
    log = log_file.open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    deadline = time.monotonic() + SIMULATOR_READY_S
    while b"READY" not in log_file.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            stop_simulators(process)
            fail(
                "the simulated line did not start",
                hint=f"see {log_file}; another program may use the demo's ports",
            )
        time.sleep(0.1)
    return process


def stop_simulators(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_line_demo(store: SiteStore, site_file: Path, directory: Path, args: Any, lot: str) -> int:
    if args.units < 1:
        fail(f"--units {args.units} must be at least 1")
    if not 0 <= args.defects <= 0.5:
        fail(f"--defects {args.defects} is not a fraction", hint="use e.g. 0.02 for 2 %")
    actor = demo_operator(store, directory)
    batch_id = demo_batch(store, lot)
    line = store.config.lines[0]
    print(f"\nline {line.id}: batch {batch_id} (lot {lot}) of {DEMO_PRODUCT}, {args.units} units")
    print(f"  {args.rate:g} units/min, {args.defects:.1%} print defects, operator {actor.username}")
    simulators = start_simulators(site_file, args, directory / "simulators.log")
    try:
        report = asyncio.run(_run(store, line, batch_id, actor, args.units))
    finally:
        stop_simulators(simulators)
    report.update(opcua_endpoint=None, hmi_url=None, headless=True)
    print(one_line(report))
    latency = report["latency_ms"]
    print(
        f"reconciliation {'balanced' if report['reconciliation_balanced'] else 'NOT BALANCED'}, "
        f"journal chain {'verified' if report['chain_verified'] else 'NOT VERIFIED'}, "
        f"trigger→verdict p50 {latency['p50']} ms p99 {latency['p99']} ms"
    )
    path = args.report or directory / "report.json"
    write_report(report, path)
    print(f"report: {path}")
    return 0 if report["reconciliation_balanced"] and report["chain_verified"] else 1


async def _run(store: SiteStore, line: Any, batch_id: int, actor: Actor, units: int) -> Any:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    return await run_batch(
        store,
        line,
        batch_id,
        actor,
        units=units,
        stop=stop,
        progress=lambda report: print("  " + one_line(report), flush=True),
    )
