"""A batch run from start to report: what `tracegate run` and `tracegate demo` share."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from config.sections import LineConfig
from ebr.audit.actor import Actor
from ebr.db import fill_pool
from ebr.journal import verify_journal
from gateway.alarms.catalog import RUNTIME_ALARMS
from gateway.alarms.manager import AlarmManager
from gateway.line.clearance import ClearanceSigner
from gateway.line.devices import open_line_devices
from gateway.line.ebr_clearance import ClearanceVerifier
from gateway.line.ebr_feed import open_ebr_feed
from gateway.line.mes_publisher import MesPublisher
from gateway.line.runtime import LineDevices, LineRuntime
from gateway.logs import log_context
from gateway.observability.devices import ReportsHealth
from gateway.observability.http_server import ListenAddress, serving_observability
from gateway.observability.hub import Observability
from gateway.opcua_server import GatewayOpcUaServer
from gateway.opcua_server.site_server import site_server
from gateway.site_store import SiteStore
from gateway.uplink.service import UplinkService

RuntimeWatcher = Callable[[LineRuntime], AbstractContextManager[object]]
"""Given the batch's open runtime; the context it returns ends before the runtime closes."""


async def run_batch(
    store: SiteStore,
    line: LineConfig,
    batch_id: int,
    actor: Actor,
    *,
    units: int | None,
    stop: asyncio.Event,
    progress: Callable[[dict[str, Any]], None] | None = None,
    progress_every_s: float = 2.0,
    server: GatewayOpcUaServer | None = None,
    signer: ClearanceSigner | None = None,
    observability: Observability | None = None,
    verifier: ClearanceVerifier | None = None,
    on_runtime: RuntimeWatcher | None = None,
) -> dict[str, Any]:
    """Clear (the clearance e-signed with `signer`), challenge and start the line, produce
    until `units` codes (or `stop`), then complete and reconcile the batch when `units` was
    reached; on `stop` the batch is held.

    With the site's uplinks configured every journal entry's upward messages go into the
    outbox in the entry's own transaction and the dispatchers run beside the line; with
    `server` the line's values, phase changes and alarms are published on it; with
    `observability` the verdicts are counted and the line's devices watched. Every log line
    of the run names the line and the batch. The line feeds the batch record beside it
    (`ebr_feed`); its clearance step is verified by `verifier`, a second person. With
    `on_runtime` the runtime is shown to a watcher (the HMI's console) while it is open."""
    started = time.monotonic()
    await asyncio.to_thread(fill_pool, store.engine)
    alarms = AlarmManager(definitions=RUNTIME_ALARMS)
    uplinks = (
        UplinkService.from_site(store.config, store.engine, alarms=alarms)
        if store.config.uplinks is not None
        else None
    )
    async with contextlib.AsyncExitStack() as stack:
        stack.enter_context(log_context(line=line.id, batch=batch_id))
        if uplinks is not None:
            await stack.enter_async_context(uplinks)
        devices = await stack.enter_async_context(open_line_devices(line, store.config.base_dir))
        runtime = await stack.enter_async_context(
            LineRuntime(
                store,
                line,
                batch_id,
                devices,
                alarms=alarms,
                journal_hook=uplinks.feed if uplinks is not None else None,
                verdicts=observability.line(line.id) if observability is not None else None,
            )
        )
        if observability is not None:
            stack.enter_context(observability.attached_line(line.id, devices_of(devices)))
        await stack.enter_async_context(open_ebr_feed(runtime, verifier=verifier))
        if on_runtime is not None:
            stack.enter_context(on_runtime(runtime))
        if server is not None:
            publisher = MesPublisher(runtime, server)
            publishing = asyncio.create_task(publisher.run(), name="mes-publisher")
            stack.push_async_callback(_cancelled, publishing)
        await runtime.prepare(actor, signer)
        producing = asyncio.create_task(
            runtime.run_units(units, actor) if units is not None else runtime.until_stopped(stop)
        )
        stopper = asyncio.create_task(stop.wait())
        try:
            while not producing.done() and not stopper.done():
                await asyncio.wait({producing, stopper}, timeout=progress_every_s)
                if progress is not None:
                    progress(runtime.report())
        finally:
            stopper.cancel()
        ended_early: str | None = None
        if not producing.done():
            producing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await producing
            with contextlib.suppress(Exception):
                await runtime.supervisor.hold(actor, "gateway stopped by the operator")
            ended_early = "stopped by the operator; the batch is held"
        else:
            outcome = producing.result()
            ended_early = outcome if isinstance(outcome, str) else None
        report = runtime.report()
        report["ended_early"] = ended_early
        report["stopped_by_alarm"] = runtime.stopped_by
    verification = await asyncio.to_thread(verify_journal, store.engine, batch_id)
    report.update(
        chain_verified=verification.ok and verification.states_match,
        journal_events=verification.events,
        database_url=store.config.database_url,
        seconds=round(time.monotonic() - started, 1),
    )
    return report


async def _cancelled(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def run_batch_until_signal(
    store: SiteStore,
    line: LineConfig,
    batch_id: int,
    actor: Actor,
    *,
    units: int | None,
    progress: Callable[[dict[str, Any]], None] | None = None,
    signer: ClearanceSigner | None = None,
    verifier: ClearanceVerifier | None = None,
    http: ListenAddress | None = None,
    on_runtime: RuntimeWatcher | None = None,
) -> dict[str, Any]:
    """`run_batch` beside the site's OPC UA server, with Ctrl-C or SIGTERM holding the batch
    instead of killing the gateway; with `http`, `/metrics`, `/healthz` and `/readyz` are
    served there while the batch runs."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with serving(store) as server, contextlib.AsyncExitStack() as observed:
            observability = None
            bound = None
            if http is not None:
                observability = Observability.for_site(store, opcua_server=server)
                bound = await observed.enter_async_context(
                    serving_observability(observability, http)
                )
            report = await run_batch(
                store,
                line,
                batch_id,
                actor,
                units=units,
                stop=stop,
                progress=progress,
                server=server,
                signer=signer,
                verifier=verifier,
                observability=observability,
                on_runtime=on_runtime,
            )
            report["opcua_endpoint"] = server.endpoint if server is not None else None
            report["http_endpoint"] = f"http://{bound}" if bound is not None else None
            return report
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


@contextlib.asynccontextmanager
async def serving(store: SiteStore) -> AsyncIterator[GatewayOpcUaServer | None]:
    """The site's OPC UA server for the MES while the block runs, when the site file has one."""
    if store.config.opcua_server is None:
        yield None
        return
    async with site_server(store.config, store) as server:
        yield server


def devices_of(devices: LineDevices) -> list[ReportsHealth]:
    """Every device the line runtime drives: PLC, unit printer and camera, and the packing
    levels' cameras and label printers."""
    found: list[ReportsHealth] = [devices.plc, devices.printer, devices.camera]
    for level in devices.levels.values():
        found += [device for device in (level.camera, level.printer) if device is not None]
    return found


def write_report(report: dict[str, Any], path: Path | None) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")


def one_line(report: dict[str, Any]) -> str:
    latency = report.get("latency_ms") or {}
    return (
        f"units {report['units']:>6}  accepted {report['accepted']:>6}  "
        f"rejected {report['rejected']:>5}  cases {report['cases']:>4}  "
        f"late {report['late_verdicts']}  p99 {latency.get('p99')} ms  phase {report['phase']}"
    )
