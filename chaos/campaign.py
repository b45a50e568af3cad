"""A campaign: trials in order on one line and batch (with its uplinks counted), the batch
completed at the end, then the full-disk trial on a line of its own on a small filesystem."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import random
import shutil
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from chaos.bench import Bench, bench
from chaos.environments import FAKETIME_LIBRARY
from chaos.in_flight import kill_with_accepts_in_flight
from chaos.invariants import check_all
from chaos.line import sent
from chaos.report import CampaignReport, InvariantResult, TrialResult
from chaos.trials import (
    SmallDisk,
    Trial,
    TrialOutcome,
    clock_jumps,
    device,
    disk_full,
    fsync_slow,
    kill,
    outage,
)

COMPLETE_TIMEOUT_S = 300.0
DISK_MB = 48


@dataclass(frozen=True, slots=True)
class Plan:
    kill: int = 50
    inflight: int = 1
    """Kills with ACCEPTs in flight (`chaos.in_flight`), besides the kills at random moments."""
    device: int = 10
    outage: int = 3
    clock: int = 1
    fsync: int = 1
    disk: int = 1
    complete: bool = True
    """Complete the batch after the trials (a run to the end, then nothing unconfirmed)."""

    def trials(self) -> list[tuple[str, Trial]]:
        counts: tuple[tuple[str, Trial, int], ...] = (
            ("kill", kill, self.kill),
            ("inflight", kill_with_accepts_in_flight, self.inflight),
            ("device", device, self.device),
            ("outage", outage, self.outage),
            ("clock", clock_jumps, self.clock),
            ("fsync", fsync_slow, self.fsync),
        )
        return [(kind, trial) for kind, trial, count in counts for _ in range(count)]


async def run_trial(line: Bench, kind: str, number: int, seed: int, trial: Trial) -> TrialResult:
    result = TrialResult(kind, seed, number)
    started = time.monotonic()
    outcome = TrialOutcome()
    try:
        outcome = await trial(line, random.Random(seed))  # noqa: S311 - faults, not secrets
    except Exception as error:
        line.gateway.kill()
        result.error = f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=3)}"
    result.fault = outcome.fault
    result.invariants = outcome.checks + await asyncio.to_thread(check_all, line.truth())
    result.duration_s = time.monotonic() - started
    return result


async def complete(line: Bench, number: int, report_file: Path) -> TrialResult:
    """A last run completes the batch; then nothing may be left unconfirmed."""
    result = TrialResult("complete", 0, number)
    started = time.monotonic()
    units = len(sent(line.simulation.ledger())) + 60
    line.gateway.start("--units", str(units), "--report", str(report_file))
    code = await line.gateway.wait(COMPLETE_TIMEOUT_S)
    if code is None:
        line.gateway.kill()
    await asyncio.sleep(2.0)
    gateway_report: dict[str, object] = {}
    if report_file.exists():
        gateway_report = json.loads(report_file.read_text(encoding="utf-8"))
    result.invariants = [
        InvariantResult(
            "batch_completes",
            code == 0
            and bool(gateway_report.get("reconciliation_balanced"))
            and bool(gateway_report.get("chain_verified")),
            {
                "exit_code": code,
                "phase": gateway_report.get("phase"),
                "reconciliation_balanced": gateway_report.get("reconciliation_balanced"),
                "chain_verified": gateway_report.get("chain_verified"),
                "outbox_waiting_after_exit": line.outbox_waiting(),
            }
            | ({} if code == 0 else {"log_tail": line.gateway.tail(1500)}),
        ),
        *await asyncio.to_thread(check_all, line.truth(settled=True)),
    ]
    result.duration_s = time.monotonic() - started
    return result


def _notes(plan: Plan) -> list[str]:
    notes = []
    if plan.clock and not FAKETIME_LIBRARY.exists():
        notes.append("clock trials need Debian's faketime package; they will fail without it")
    if plan.disk and os.geteuid() != 0:
        notes.append("the full-disk trial mounts a tmpfs and needs root: skipped")
    return notes


async def run_campaign(
    plan: Plan,
    *,
    seed: int,
    workdir: Path,
    report_path: Path,
    on_trial: Callable[[TrialResult], None] = lambda _: None,
) -> CampaignReport:
    report = CampaignReport(seed, notes=_notes(plan))
    rng = random.Random(seed)  # noqa: S311 - faults, not secrets
    shutil.rmtree(workdir, ignore_errors=True)

    def keep(result: TrialResult) -> None:
        report.trials.append(result)
        report.write(report_path)
        on_trial(result)

    trials = plan.trials()
    if trials:
        async with bench(workdir / "line", seed=seed, uplinks=True) as line:
            for number, (kind, trial) in enumerate(trials, start=1):
                keep(await run_trial(line, kind, number, rng.randrange(2**31), trial))
            if plan.complete:
                keep(await complete(line, len(trials) + 1, workdir / "line" / "final.json"))
    if plan.disk and os.geteuid() == 0:
        for _ in range(plan.disk):
            with SmallDisk(workdir / "disk" / "site", DISK_MB) as disk:
                async with bench(workdir / "disk", seed=seed, uplinks=False) as line:
                    trial = functools.partial(disk_full, disk=disk)
                    keep(
                        await run_trial(
                            line, "disk", len(report.trials) + 1, rng.randrange(2**31), trial
                        )
                    )
                    keep(await complete(line, len(report.trials) + 1, workdir / "disk.json"))
    report.write(report_path)
    return report
