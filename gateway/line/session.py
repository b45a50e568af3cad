"""A batch run from start to report: what `tracegate run` and `tracegate demo` share."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from config.sections import LineConfig
from ebr.audit.actor import Actor
from ebr.journal import verify_journal
from gateway.line.devices import open_line_devices
from gateway.line.runtime import LineRuntime
from gateway.site_store import SiteStore


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
) -> dict[str, Any]:
    """Clear, challenge and start the line, produce until `units` codes (or `stop`), then
    complete and reconcile the batch when `units` was reached; on `stop` the batch is held."""
    started = time.monotonic()
    async with (
        open_line_devices(line, store.config.base_dir) as devices,
        LineRuntime(store, line, batch_id, devices) as runtime,
    ):
        await runtime.prepare(actor)
        producing = asyncio.create_task(
            runtime.run_units(units, actor) if units is not None else stop.wait()
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
    verification = await asyncio.to_thread(verify_journal, store.engine, batch_id)
    report.update(
        chain_verified=verification.ok and verification.states_match,
        journal_events=verification.events,
        database_url=store.config.database_url,
        seconds=round(time.monotonic() - started, 1),
    )
    return report


async def run_batch_until_signal(
    store: SiteStore,
    line: LineConfig,
    batch_id: int,
    actor: Actor,
    *,
    units: int | None,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """`run_batch`, with Ctrl-C or SIGTERM holding the batch instead of killing the gateway."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        return await run_batch(
            store, line, batch_id, actor, units=units, stop=stop, progress=progress
        )
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


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
