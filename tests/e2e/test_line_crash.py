"""SIGKILL the gateway at random points of a running batch, restart it, check nothing is lost.

After every kill: the journal chain verifies and its replay gives the codes' states, no code
was sent to the printer for two units, and every unit that passed the reject gate has an
accepted record with the code it carries. At the end a last run completes the batch and the
reconciliation balances. The suite runs two trials (TRACEGATE_CHAOS_TRIALS), `tests/chaos` two
more kills in its short campaign; `make chaos` runs the whole campaign (`chaos/`).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ebr.journal import EventKind, Journal, verify_journal
from ebr.line_codes import batch_code_states
from ebr.models import Code
from gateway.simulation import LineSimulation, UnitRecord
from serialization.states import CodeState
from simulators.line_plc.line import GateOutcome
from tests.e2e.line_site import (
    OPERATOR,
    OPERATOR_PASSWORD,
    LineSite,
    demo_site,
    faulty_line,
    open_line_site,
)

TRIALS = int(os.environ.get("TRACEGATE_CHAOS_TRIALS", "2"))
RATE_UPM = 600.0
START_TIMEOUT_S = 60.0

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120 + TRIALS * 60)]


def _gateway(site_file: Path, batch_id: int, log: Path, *units: str) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "gateway.cli",
        "run",
        "--config",
        str(site_file),
        "--batch",
        str(batch_id),
        "--operator",
        OPERATOR,
        "--yes",
        *units,
    ]
    env = {**os.environ, "TRACEGATE_OPERATOR_PASSWORD": OPERATOR_PASSWORD}
    with log.open("ab") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)


async def _wait_for_printing(
    simulation: LineSimulation, process: subprocess.Popen[bytes], log: Path
) -> None:
    before = _sent(simulation.ledger())
    deadline = time.monotonic() + START_TIMEOUT_S
    while len(_sent(simulation.ledger())) < len(before) + 5:
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"the gateway did not start printing:\n{log.read_text()[-3000:]}")
        await asyncio.sleep(0.05)


def _sent(ledger: dict[str, UnitRecord]) -> list[str]:
    return [unit.sent_payload for unit in ledger.values() if unit.sent_payload is not None]


def _check(site: LineSite, ledger: dict[str, UnitRecord], trial: int) -> dict[str, Any]:
    engine = site.store.engine
    verification = verify_journal(engine, site.batch_id)
    assert verification.ok, (trial, verification)
    assert verification.states_match, (trial, verification)
    sent = _sent(ledger)
    assert len(sent) == len(set(sent)), f"trial {trial}: a code was sent for two units"
    journal = list(Journal(engine).entries(site.batch_id))
    issued = [e.event.code_key for e in journal if e.event.kind is EventKind.UNIT_ISSUED]
    assert len(issued) == len(set(issued)), f"trial {trial}: a code was issued twice"
    accepted = {
        e.event.unit_ref: e.event.code_key
        for e in journal
        if e.event.kind is EventKind.UNIT_ACCEPTED
    }
    states = batch_code_states(engine, site.batch_id, line_id=site.config.lines[0].id)
    with engine.connect() as conn:
        data = dict(conn.execute(select(Code.key, Code.data)).all())
    passed = [ref for ref, unit in ledger.items() if unit.gate is GateOutcome.PASSED]
    for ref in passed:
        key = accepted.get(ref)
        assert key is not None, f"trial {trial}: unit {ref} passed the gate with no record"
        assert states[key] is CodeState.COMMISSIONED, (trial, ref, states[key])
        assert data[key] == ledger[ref].printed_payload, (trial, ref)
    return {"passed": len(passed), "accepted": len(accepted), "issued": len(issued)}


async def test_sigkill_at_random_points_loses_nothing(tmp_path: Path) -> None:
    site_file = demo_site(tmp_path)
    site = open_line_site(site_file)
    line = site.config.lines[0]
    options = faulty_line(RATE_UPM, seed=11)
    rng = random.Random(2026)
    log = tmp_path / "gateway.log"
    try:
        async with LineSimulation(line, base_dir=site.config.base_dir, options=options) as sim:
            for trial in range(TRIALS):
                gateway = _gateway(site_file, site.batch_id, log)
                try:
                    await _wait_for_printing(sim, gateway, log)
                    await asyncio.sleep(rng.uniform(0.0, 2.5))
                finally:
                    gateway.send_signal(signal.SIGKILL)
                    gateway.wait()
                await asyncio.sleep(rng.uniform(0.0, 0.5))
                _check(site, sim.ledger(), trial)
            issued_so_far = len(_sent(sim.ledger()))
            final = _gateway(
                site_file,
                site.batch_id,
                log,
                "--units",
                str(issued_so_far + 100),
                "--report",
                str(tmp_path / "report.json"),
            )
            while final.poll() is None:
                await asyncio.sleep(0.1)
            assert final.returncode == 0, log.read_text()[-3000:]
            await asyncio.sleep(1.0)
            ledger = sim.ledger()
            summary = _check(site, ledger, TRIALS)
        import json

        report = json.loads((tmp_path / "report.json").read_text())
        assert report["reconciliation_balanced"], report
        assert report["chain_verified"], report
        counts = batch_code_states(site.store.engine, site.batch_id, line_id=line.id)
        left = [k for k, s in counts.items() if s in (CodeState.ALLOCATED, CodeState.ENCODED)]
        assert not left, f"unconfirmed codes after completion: {left[:5]}"
        unit_of = {
            e.event.code_key: e.event.unit_ref
            for e in Journal(site.store.engine).entries(site.batch_id)
            if e.event.kind is EventKind.UNIT_ACCEPTED
        }
        in_bin = [
            key
            for key, state in counts.items()
            if state is CodeState.COMMISSIONED
            and ledger[unit_of[key]].gate is not GateOutcome.PASSED
        ]
        assert not in_bin, f"commissioned codes on units that did not pass the gate: {in_bin[:5]}"
        print({"trials": TRIALS, **summary, "report": report})
    finally:
        site.store.close()
