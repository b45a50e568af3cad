"""Benchmark: a whole simulated line, trigger → verdict latency and the highest sustained rate.

The simulators run in their own process (`python -m gateway.cli simulate line`), the gateway in
this one, the store is SQLite in a temporary folder. Each measured rate gets a fresh batch and
a fresh simulator process at that rate:

- latency at 600 and 1200 units/min (`--units` units each);
- the ramp (`--rates`, each step `--step-s` seconds, no print defects, no camera faults): the
  highest rate with zero late verdicts and zero no-image rejects, stopping at the first rate
  that fails. The gate is 8 pitches after the trigger; when the site's verdict deadline is
  longer than that travel time, the step runs with 80 % of the travel time instead;
- the baseline, in the same run: a bare OPC UA client answering every "trigger <ref>" event of
  the PLC simulator with SetVerdict at once, at 1200 units/min. The gateway's latency is
  compared with that round trip, which it cannot beat.

Prints one JSON object; progress goes to stderr.
Usage: python bench/line.py [--quick] [--rates R,R,...] [--units N] [--step-s S]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from config.devices import OpcUaDeviceConfig
from config.sections import LineConfig
from drivers.opcua.client import OpcUaClient
from ebr.journal import EventKind, Journal
from gateway.devices import build_device, open_device
from gateway.line.devices import open_line_devices
from gateway.line.ledger import LatencyRecorder
from gateway.line.runtime import LineRuntime
from gateway.line.testbed import (
    SimulatedSite,
    open_simulated_site,
    simulator_process,
    write_demo_site,
)

OPERATOR = "bench.operator"
OPERATOR_PASSWORD = "Bench-line-2026-throughput"

LATENCY_RATES = (600, 1200)
RAMP = (1200, 1500, 1800, 2100, 2400, 3000, 3600, 4200, 4800, 6000)
GATE_DISTANCE = 8
"""Unit pitches from the trigger sensor to the reject gate."""
DEADLINE_SHARE_OF_TRAVEL = 0.8
BASELINE_RATE = 1200
WARM_UP_UNITS = 60
"""One short batch first: the gateway process's first units pay one-time costs (SQL statement
caches, decoder set-up) that a running line pays once a start-up, not per unit."""
TARGETS = {"max_sustained_upm": 1500, "p99_ms_at_600": 30}


def progress(message: str) -> None:
    print(f"[bench/line {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the site --------------------------------------------------------------------------------


@dataclass
class Ramp:
    best: int | None = None
    best_after_start_up: int | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)


def _log_file(log_dir: Path, rate_upm: float) -> Path:
    return log_dir / f"simulator-{rate_upm:g}-{time.monotonic_ns()}.log"


def with_deadline(line: LineConfig, deadline_ms: float) -> LineConfig:
    runtime = line.runtime.model_copy(update={"verdict_deadline_ms": deadline_ms})
    return line.model_copy(update={"runtime": runtime})


def gate_travel_ms(rate_upm: float) -> float:
    return GATE_DISTANCE * 60_000 / rate_upm


def deadline_for(site_deadline_ms: float, rate_upm: float) -> float:
    """The site's deadline, or 80 % of the gate travel time when the site's is longer."""
    travel = gate_travel_ms(rate_upm)
    if site_deadline_ms > travel:
        return round(travel * DEADLINE_SHARE_OF_TRAVEL, 1)
    return site_deadline_ms


# --- measurements ----------------------------------------------------------------------------


def start_up_units(rate_upm: float) -> int:
    """Units of a batch's first second, reported apart: a cold start is not sustained speed."""
    return max(1, round(rate_upm / 60))


def _late_after_start(engine: Engine, batch_id: int, first_units: int) -> dict[str, int]:
    """Late-verdict and no-image rejects of units after the first `first_units`, from the
    journal (the simulator numbers a fresh line's units from 1)."""
    counts = {"late_verdicts": 0, "no_image": 0}
    for entry in Journal(engine).entries(batch_id):
        event = entry.event
        if event.kind is not EventKind.UNIT_REJECTED or event.unit_ref is None:
            continue
        reason = event.data.get("reason")
        if reason in ("late_verdict", "no_image") and int(event.unit_ref) > first_units:
            counts["late_verdicts" if reason == "late_verdict" else "no_image"] += 1
    return counts


async def run_batch(
    site: SimulatedSite, rate_upm: float, units: int, *, deadline_ms: float, log_dir: Path
) -> dict[str, Any]:
    """One fresh batch of `units` units at `rate_upm` through the real line runtime."""
    line = with_deadline(site.line, deadline_ms)
    batch_id = await asyncio.to_thread(site.new_batch, "BL")
    timeout = units / rate_upm * 60 * 3 + 60
    async with (
        simulator_process(
            site.file,
            rate_upm=rate_upm,
            gate_distance=GATE_DISTANCE,
            seed=1,
            log_file=_log_file(log_dir, rate_upm),
        ),
        open_line_devices(line, site.config.base_dir) as devices,
        LineRuntime(site.store, line, batch_id, devices) as runtime,
    ):
        await runtime.prepare(site.operator)
        started = time.monotonic()
        ended_early = await runtime.run_units(units, site.operator, timeout=timeout)
        seconds = time.monotonic() - started
        report = runtime.report()
        stages = {
            name: recorder.percentiles()["p99"]
            for name, recorder in runtime.pipeline.stages.items()
        }
        stages_p50 = {
            name: recorder.percentiles()["p50"]
            for name, recorder in runtime.pipeline.stages.items()
        }
    first_units = start_up_units(rate_upm)
    after_start = await asyncio.to_thread(
        _late_after_start, site.store.engine, batch_id, first_units
    )
    latency = report["latency_ms"]
    return {
        "p50": latency["p50"],
        "p99": latency["p99"],
        "p999": latency["p999"],
        "max": latency["max"],
        "count": int(latency["count"]),
        "late_verdicts": report["late_verdicts"],
        "no_image": report["no_image"],
        "accepted": report["accepted"],
        "rejected": report["rejected"],
        "units": report["units"],
        "start_up_units": first_units,
        "late_verdicts_after_start_up": after_start["late_verdicts"],
        "no_image_after_start_up": after_start["no_image"],
        "reject_reasons": report["reject_reasons"],
        "reject_missed": report["reject_missed"],
        "duplicate_triggers": report["duplicate_triggers"],
        "stage_p99_ms": stages,
        "stage_p50_ms": stages_p50,
        "verdict_deadline_ms": deadline_ms,
        "reconciliation_balanced": report["reconciliation_balanced"],
        "ended_early": ended_early,
        "seconds": round(seconds, 1),
    }


async def measure_latency(
    site: SimulatedSite, rates: tuple[int, ...], units: int | None, log_dir: Path
) -> dict[str, dict[str, Any]]:
    site_deadline = site.line.runtime.verdict_deadline_ms
    results: dict[str, dict[str, Any]] = {}
    for rate in rates:
        count = units if units is not None else rate
        progress(f"latency: {count} units at {rate} upm")
        results[str(rate)] = await run_batch(
            site, rate, count, deadline_ms=deadline_for(site_deadline, rate), log_dir=log_dir
        )
        progress(f"  p50 {results[str(rate)]['p50']} ms  p99 {results[str(rate)]['p99']} ms")
    return results


async def ramp(site: SimulatedSite, rates: tuple[int, ...], step_s: float, log_dir: Path) -> Ramp:
    """Step up through `rates` until a step fails even with its start-up second left out.

    `best` is the highest rate below the first step with any late verdict or missing image;
    `best_after_start_up` leaves out each batch's first second of units.
    """
    site_deadline = site.line.runtime.verdict_deadline_ms
    result = Ramp()
    strict = True
    for rate in rates:
        units = max(1, round(rate * step_s / 60))
        deadline = deadline_for(site_deadline, rate)
        progress(f"ramp: {units} units at {rate} upm, verdict deadline {deadline} ms")
        batch = await run_batch(site, rate, units, deadline_ms=deadline, log_dir=log_dir)
        produced = batch["units"] >= units and batch["ended_early"] is None
        passed = produced and batch["late_verdicts"] == 0 and batch["no_image"] == 0
        passed_after_start_up = (
            produced
            and batch["late_verdicts_after_start_up"] == 0
            and batch["no_image_after_start_up"] == 0
        )
        result.steps.append(
            {
                "rate_upm": rate,
                "gate_travel_ms": round(gate_travel_ms(rate), 1),
                "verdict_deadline_ms": deadline,
                "deadline_shrunk": deadline != site_deadline,
                "units_planned": units,
                "passed": passed,
                "passed_after_start_up": passed_after_start_up,
                **{k: v for k, v in batch.items() if k != "verdict_deadline_ms"},
            }
        )
        progress(
            f"  {'pass' if passed else 'FAIL'}: late {batch['late_verdicts']} "
            f"({batch['late_verdicts_after_start_up']} after start-up), no image "
            f"{batch['no_image']}, p99 {batch['p99']} ms"
        )
        strict = strict and passed
        if strict:
            result.best = rate
        if not passed_after_start_up:
            break
        result.best_after_start_up = rate
    return result


async def baseline(
    site: SimulatedSite, rate_upm: float, seconds: float, log_dir: Path
) -> dict[str, Any]:
    """Event received → SetVerdict returned, for a client doing nothing else."""
    plc = next(d for d in site.line.devices if d.role == "line-plc")
    assert isinstance(plc, OpcUaDeviceConfig)
    verdict_object = plc.tags["verdict_object"]
    verdict_method = plc.tags["verdict_method"]
    recorder = LatencyRecorder()
    acks: dict[str, int] = {}
    calls: set[asyncio.Task[None]] = set()
    progress(f"baseline: bare SetVerdict round trip at {rate_upm:g} upm for {seconds:g} s")

    async def answer(client: OpcUaClient, ref: int, received_at: float) -> None:
        outputs = await client.call(verdict_object, verdict_method, [ref, True])
        recorder.record((time.monotonic() - received_at) * 1000)
        ack = str(outputs[0]) if outputs else "none"
        acks[ack] = acks.get(ack, 0) + 1

    async def listen(client: OpcUaClient, first: asyncio.Event) -> None:
        async for event in client.events():
            received_at = time.monotonic()
            word, _, rest = event.message.strip().partition(" ")
            if word != "trigger" or not rest.isdigit():
                continue
            first.set()
            task = asyncio.create_task(answer(client, int(rest), received_at))
            calls.add(task)
            task.add_done_callback(calls.discard)

    async with simulator_process(
        site.file,
        rate_upm=rate_upm,
        gate_distance=GATE_DISTANCE,
        autostart=True,
        seed=1,
        log_file=_log_file(log_dir, rate_upm),
    ):
        device = build_device(plc, base_dir=site.config.base_dir)
        assert isinstance(device, OpcUaClient)
        async with open_device(device) as opened:
            assert isinstance(opened, OpcUaClient)
            await opened.wait_up(30)
            first = asyncio.Event()
            listener = asyncio.create_task(listen(opened, first))
            try:
                await asyncio.wait_for(first.wait(), 60)
                await asyncio.sleep(seconds)
            finally:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener
                await asyncio.gather(*calls, return_exceptions=True)
    latency = recorder.percentiles()
    return {
        "rate_upm": rate_upm,
        "seconds": seconds,
        "p50_ms": latency["p50"],
        "p99_ms": latency["p99"],
        "max_ms": latency["max"],
        "count": int(latency["count"] or 0),
        "acks": acks,
    }


def _ratio(gateway_ms: float | None, baseline_ms: float | None) -> float | None:
    if gateway_ms is None or not baseline_ms:
        return None
    return round(gateway_ms / baseline_ms, 2)


def _machine(load_before: tuple[float, float, float]) -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


async def measure(
    *,
    latency_rates: tuple[int, ...],
    units: int | None,
    ramp_rates: tuple[int, ...],
    step_s: float,
    baseline_s: float,
) -> dict[str, Any]:
    load_before = os.getloadavg()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tracegate-bench-line-") as tmp:
        folder = Path(tmp)
        site = await asyncio.to_thread(
            open_simulated_site,
            write_demo_site(folder),
            operator=OPERATOR,
            password=OPERATOR_PASSWORD,
            full_name="Bench operator",
        )
        try:
            progress(f"warm-up: {WARM_UP_UNITS} units at 600 upm (not measured)")
            site_deadline = site.line.runtime.verdict_deadline_ms
            await run_batch(site, 600, WARM_UP_UNITS, deadline_ms=site_deadline, log_dir=folder)
            latency = await measure_latency(site, latency_rates, units, folder)
            stepped = await ramp(site, ramp_rates, step_s, folder)
            bare = await baseline(site, BASELINE_RATE, baseline_s, folder)
            site_deadline = site.line.runtime.verdict_deadline_ms
        finally:
            site.store.close()
    at_baseline_rate = latency.get(str(BASELINE_RATE), {})
    at_600 = latency.get("600", {})
    p99_600 = at_600.get("p99")
    best = stepped.best
    return {
        "latency_ms": latency,
        "max_sustained_upm": best,
        "max_sustained_upm_after_start_up": stepped.best_after_start_up,
        "ramp": stepped.steps,
        "baseline": bare,
        "latency_ratio_p50": _ratio(at_baseline_rate.get("p50"), bare["p50_ms"]),
        "latency_ratio_p99": _ratio(at_baseline_rate.get("p99"), bare["p99_ms"]),
        "machine": _machine(load_before),
        "targets": dict(TARGETS),
        "meets_targets": {
            "max_sustained_upm": best is not None and best >= TARGETS["max_sustained_upm"],
            "p99_ms_at_600": p99_600 is not None and p99_600 <= TARGETS["p99_ms_at_600"],
        },
        "settings": {
            "gate_distance_pitches": GATE_DISTANCE,
            "site_verdict_deadline_ms": site_deadline,
            "units": units,
            "step_s": step_s,
            "baseline_s": baseline_s,
            "store": "SQLite (WAL, synchronous=FULL) in a temporary folder",
            "simulators": "tracegate simulate line, separate process, same machine",
        },
        "seconds": round(time.monotonic() - started, 1),
    }


def _rates(text: str) -> tuple[int, ...]:
    try:
        rates = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"--rates {text!r}: give whole units per minute, e.g. 1200,1500,1800"
        ) from error
    if not rates or any(rate <= 0 for rate in rates):
        raise argparse.ArgumentTypeError(f"--rates {text!r}: give positive rates, e.g. 1200,1500")
    return rates


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--rates",
        type=_rates,
        default=RAMP,
        metavar="R,R,...",
        help="ramp rates in units/min (default: %(default)s)",
    )
    parser.add_argument(
        "--units",
        type=int,
        metavar="N",
        help="units per latency rate (default: as many as the rate, e.g. 600 at 600 upm)",
    )
    parser.add_argument(
        "--step-s", type=float, default=20.0, metavar="S", help="seconds per ramp step"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 40 units per latency rate, one 3 s ramp step at 1200, 3 s baseline",
    )
    args = parser.parse_args(argv)
    if args.units is not None and args.units < 1:
        parser.error(f"--units {args.units} must be at least 1")
    if not args.step_s > 0:
        parser.error(f"--step-s {args.step_s} must be positive")
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    if args.quick:
        args.units, args.rates, args.step_s = 40, (1200,), 3.0
    report = asyncio.run(
        measure(
            latency_rates=LATENCY_RATES,
            units=args.units,
            ramp_rates=args.rates,
            step_s=args.step_s,
            baseline_s=args.step_s,
        )
    )
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
