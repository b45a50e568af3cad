"""`tracegate demo` (the line): simulators in their own process, the gateway running a batch.

The simulated line listens where the demo site file puts its devices; the gateway connects to
it over OPC UA and TCP exactly as to a real line, runs one batch of the demo's GS1 product
with the operator's clearance and the vision challenge, and writes a JSON report.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from pathlib import Path
from typing import Any

from ebr.audit.actor import Actor
from ebr.execution import ExecutionRecord, Step, execution_requirements
from ebr.signatures import ESignatures
from ebr.users import Users
from gateway.allocator import keep_trimmed
from gateway.commands.common import fail
from gateway.commands.demo_hmi import (
    DEMO_ACCOUNTS,
    demo_hmi,
    ensure_account,
    print_accounts,
    serve_until_signal,
)
from gateway.hmi.console import LineConsole
from gateway.line.clearance import clearance_signer
from gateway.line.ebr_clearance import clearance_verifier
from gateway.line.session import one_line, run_batch_until_signal, write_report
from gateway.line.testbed import (
    DEMO_PRODUCT,
    SimulatedSite,
    SimulatorError,
    ensure_operator,
    simulator_process,
)
from gateway.observability.http_server import HttpServeError, ListenAddress, parse_listen_address
from gateway.site_store import SiteStore

DEMO_OPERATOR = "demo.operator"
DEMO_VERIFIER = "demo.verifier"
GATE_DISTANCE = 8
DEMO_HMI = "127.0.0.1:8080"
DEMO_CARTON = "CARTON-U"
"""The demo's unit carton: its batches have no order, so any material id is taken."""


def demo_password(directory: Path, account: str) -> str:
    """The demo account's password, kept in the demo folder (demo only); the trailing digit
    meets the policy's letters-and-digits rule whatever the random part holds."""
    secret = directory / "keys" / f"{account.replace('.', '-')}.password"
    if not secret.exists():
        secret.parent.mkdir(parents=True, exist_ok=True)
        secret.write_text(
            f"Demo-{secrets.token_urlsafe(12)}-{secrets.randbelow(10)}", encoding="utf-8"
        )
        secret.chmod(0o600)
    return secret.read_text(encoding="utf-8").strip()


def demo_operator(store: SiteStore, site_file: Path, directory: Path) -> SimulatedSite:
    """The demo's operator logged in, and a second operator who verifies the line clearance
    in the batch record."""
    password = demo_password(directory, DEMO_OPERATOR)
    users = Users(store.audit)
    ensure_operator(users, DEMO_OPERATOR, password, "演示操作员 Demo operator")
    session = users.login(DEMO_OPERATOR, password)
    second = demo_password(directory, DEMO_VERIFIER)
    ensure_operator(
        users,
        DEMO_VERIFIER,
        second,
        "演示复核员 Demo verifier",
        administrator=(f"{DEMO_OPERATOR}.admin", password),
    )
    return SimulatedSite(
        site_file,
        store.config,
        store,
        Actor(user_id=session.user_id, username=session.username),
        signer=clearance_signer(users, store.audit, session, password),
        verifier=clearance_verifier(users, store.audit, users.login(DEMO_VERIFIER, second), second),
    )


def run_line_demo(store: SiteStore, site_file: Path, directory: Path, args: Any) -> int:
    if args.units < 1:
        fail(f"--units {args.units} must be at least 1")
    if not 0 <= args.defects <= 0.5:
        fail(f"--defects {args.defects} is not a fraction", hint="use e.g. 0.02 for 2 %")
    hmi = None if args.no_hmi else parse_hmi_address(args.hmi)
    site = demo_operator(store, site_file, directory)
    accounts = demo_accounts(store, directory)
    batch_id = site.new_batch("D")
    line = site.line
    print(f"\nline {line.id}: batch {batch_id} of {DEMO_PRODUCT}, {args.units} units")
    print(f"  {args.rate:g} units/min, {args.defects:.1%} print defects, operator "
          f"{site.operator.username}")  # fmt: skip
    try:
        keep_trimmed()
        report = asyncio.run(
            _run(site, batch_id, args, directory / "simulators.log", hmi, accounts)
        )
    except SimulatorError as error:
        fail(str(error), hint="another program may use the demo's ports")
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


def parse_hmi_address(text: str) -> ListenAddress:
    try:
        return parse_listen_address(text)
    except HttpServeError as error:
        fail(f"--hmi: {error.message}", hint=error.hint)


def demo_accounts(store: SiteStore, directory: Path) -> list[tuple[str, str, Path]]:
    """Who may log in to the demo's HMI: (user name, role, the file holding the password);
    the QA and engineer accounts are made by the demo operator's administrator."""
    users = Users(store.audit)
    admin = (f"{DEMO_OPERATOR}.admin", demo_password(directory, DEMO_OPERATOR))
    for username, role, full_name in DEMO_ACCOUNTS:
        ensure_account(users, username, demo_password(directory, username), full_name, role, admin)
    keys = directory / "keys"
    return [
        (DEMO_OPERATOR, "operator", keys / "demo-operator.password"),
        *((name, role.value, keys / f"{name.replace('.', '-')}.password")
          for name, role, _ in DEMO_ACCOUNTS),
    ]  # fmt: skip


async def _run(
    site: SimulatedSite,
    batch_id: int,
    args: Any,
    log_file: Path,
    hmi: ListenAddress | None,
    accounts: list[tuple[str, str, Path]],
) -> dict[str, Any]:
    console = LineConsole(Users(site.store.audit), target_upm=args.rate, planned_units=args.units)
    async with (
        demo_hmi(site, console, hmi) as url,
        simulator_process(
            site.file,
            rate_upm=args.rate,
            print_defects=args.defects,
            camera_faults=args.defects / 4,
            gate_distance=GATE_DISTANCE,
            log_file=log_file,
        ),
    ):
        if url is not None:
            print_accounts(url, accounts)
        materials = asyncio.create_task(issue_materials(site, batch_id, args.units))
        try:
            report = await run_batch_until_signal(
                site.store,
                site.line,
                batch_id,
                site.operator,
                units=args.units,
                progress=lambda report: print("  " + one_line(report), flush=True),
                signer=site.signer,
                verifier=site.verifier,
                on_runtime=console.attached,
            )
        finally:
            materials.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await materials
        report.update(hmi_url=url, headless=args.headless)
        if url is not None and not args.headless and report.get("ended_early") is None:
            await serve_until_signal(url)
        return report


async def issue_materials(site: SimulatedSite, batch_id: int, units: int) -> None:
    """The demo's material issue, as the line's operator would record it once the line is
    cleared: the unit cartons for the batch and a 5 % set-up allowance."""
    users = Users(site.store.audit)
    record = ExecutionRecord(
        site.store.engine,
        site.store.audit,
        ESignatures(users, site.store.audit, execution_requirements()),
        users,
    )
    while Step.CLEARANCE not in {step.step for step in record.steps(batch_id)}:
        await asyncio.sleep(0.2)
    cartons = units + max(1, units // 20)
    await asyncio.to_thread(
        record.issue_material, batch_id, DEMO_CARTON, cartons, by=site.operator, unit="pcs"
    )
    await asyncio.to_thread(record.complete_step, batch_id, Step.MATERIALS_ISSUED, site.operator)
