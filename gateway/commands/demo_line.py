"""`tracegate demo` (the line): simulators in their own process, the gateway running a batch.

The simulated line listens where the demo site file puts its devices; the gateway connects to
it over OPC UA and TCP exactly as to a real line, runs one batch of the demo's GS1 product
with the operator's clearance and the vision challenge, and writes a JSON report.
"""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

from ebr.audit.actor import Actor
from ebr.users import Users
from gateway.commands.common import fail
from gateway.line.session import one_line, run_batch_until_signal, write_report
from gateway.line.testbed import DEMO_PRODUCT, SimulatedSite, SimulatorError, simulator_process
from gateway.site_store import SiteStore

DEMO_OPERATOR = "demo.operator"
GATE_DISTANCE = 8


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


def run_line_demo(store: SiteStore, site_file: Path, directory: Path, args: Any) -> int:
    if args.units < 1:
        fail(f"--units {args.units} must be at least 1")
    if not 0 <= args.defects <= 0.5:
        fail(f"--defects {args.defects} is not a fraction", hint="use e.g. 0.02 for 2 %")
    site = SimulatedSite(site_file, store.config, store, demo_operator(store, directory))
    batch_id = site.new_batch("D")
    line = site.line
    print(f"\nline {line.id}: batch {batch_id} of {DEMO_PRODUCT}, {args.units} units")
    print(f"  {args.rate:g} units/min, {args.defects:.1%} print defects, operator "
          f"{site.operator.username}")  # fmt: skip
    try:
        report = asyncio.run(_run(site, batch_id, args, directory / "simulators.log"))
    except SimulatorError as error:
        fail(str(error), hint="another program may use the demo's ports")
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


async def _run(site: SimulatedSite, batch_id: int, args: Any, log_file: Path) -> dict[str, Any]:
    async with simulator_process(
        site.file,
        rate_upm=args.rate,
        print_defects=args.defects,
        camera_faults=args.defects / 4,
        gate_distance=GATE_DISTANCE,
        log_file=log_file,
    ):
        return await run_batch_until_signal(
            site.store,
            site.line,
            batch_id,
            site.operator,
            units=args.units,
            progress=lambda report: print("  " + one_line(report), flush=True),
        )
