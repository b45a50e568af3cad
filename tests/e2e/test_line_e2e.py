"""A whole line: simulators + gateway over real OPC UA and TCP, a 2,000-unit batch with faults.

2 % print defects (skip, smudge, wrong data), 0.5 % camera faults (a lost or corrupt image) and
a printer disconnect in the middle: every defective unit is rejected, every accepted unit
carries a unique verified code, the reconciliation balances exactly and the journal verifies.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from ebr.journal import EventKind, Journal, verify_journal
from ebr.line_codes import batch_code_states
from ebr.models import Code
from gateway.line.devices import open_line_devices
from gateway.line.runtime import LineRuntime
from gateway.simulation import LineSimulation
from serialization.states import CodeState
from simulators.line_plc.line import GateOutcome
from tests.e2e.line_site import demo_site, faulty_line, open_line_site

UNITS = int(os.environ.get("TRACEGATE_E2E_UNITS", "2000"))
RATE_UPM = 1200.0

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


async def test_two_thousand_units_with_faults(tmp_path: Path) -> None:
    site = open_line_site(demo_site(tmp_path))
    line = site.config.lines[0]
    options = faulty_line(RATE_UPM, seed=7)
    try:
        async with (
            LineSimulation(line, base_dir=site.config.base_dir, options=options) as simulation,
            open_line_devices(line, site.config.base_dir) as devices,
            LineRuntime(site.store, line, site.batch_id, devices) as runtime,
        ):
            await runtime.prepare(site.operator)
            printer_id = next(d.id for d in line.devices if d.role == "unit-printer")

            async def disconnect_mid_batch() -> None:
                while len(runtime.pipeline.ledger.issued) < UNITS // 2:
                    await asyncio.sleep(0.05)
                await simulation.disconnect_printer(printer_id)

            disconnecting = asyncio.create_task(disconnect_mid_batch())
            ended_early = await runtime.run_units(UNITS, site.operator, timeout=400)
            if ended_early is not None:
                disconnecting.cancel()
            assert ended_early is None, ended_early
            await disconnecting
            report = runtime.report()
            ledger = simulation.ledger()
            case_ledger = simulation.ledger("case")
        engine = site.store.engine
        journal = list(Journal(engine).entries(site.batch_id))
        verification = verify_journal(engine, site.batch_id)
    finally:
        site.store.close()

    assert report["units"] >= UNITS
    assert report["reconciliation_balanced"], report
    assert verification.ok, verification
    assert verification.states_match, verification

    accepted = {
        e.event.unit_ref: e.event.code_key
        for e in journal
        if e.event.kind is EventKind.UNIT_ACCEPTED
    }
    revoked = {
        e.event.unit_ref
        for e in journal
        if e.event.kind is EventKind.UNIT_REJECTED and e.event.unit_ref in accepted
    }
    kept = {ref: key for ref, key in accepted.items() if ref not in revoked}
    assert len(set(kept.values())) == len(kept), "an accepted code appears twice"

    passed = {ref for ref, unit in ledger.items() if unit.gate is GateOutcome.PASSED}
    lacking = sorted(passed - set(kept))
    assert not lacking, f"units passed the gate without an accept record: {lacking[:10]}"
    defective = {ref for ref in ledger if simulation.defective(ref)}
    assert defective, "the simulation injected no defects"
    escaped = sorted(defective & passed)
    assert not escaped, f"defective units passed the gate: {escaped[:10]}"
    for ref in passed:
        assert ledger[ref].printed_payload == ledger[ref].sent_payload

    with site.store.engine.connect() as conn:
        data = dict(
            conn.execute(select(Code.key, Code.data).where(Code.key.in_(list(kept.values())))).all()
        )
    for ref in passed:
        assert ledger[ref].printed_payload == data[kept[ref]]

    states = batch_code_states(site.store.engine, site.batch_id, line_id=line.id)
    counts = Counter(states.values())
    assert counts[CodeState.ALLOCATED] == 0, counts
    assert counts[CodeState.ENCODED] == 0, counts
    assert counts[CodeState.COMMISSIONED] == len(kept)

    cases = [
        e.event
        for e in journal
        if e.event.kind is EventKind.AGGREGATED and e.event.data.get("level") == "case"
    ]
    assert len(cases) >= UNITS // 12, "cases were not packed"
    label_of = {
        e.event.code_key: e.event.unit_ref
        for e in journal
        if e.event.kind is EventKind.UNIT_ISSUED and (e.event.unit_ref or "").startswith("case-")
    }
    with site.store.engine.connect() as conn:
        keys = [case.code_key for case in cases]
        case_data = dict(conn.execute(select(Code.key, Code.data).where(Code.key.in_(keys))).all())
    for case in cases:
        assert case.code_key is not None
        printed = case_ledger[label_of[case.code_key]].printed_payload
        assert printed == case_data[case.code_key], "a case was recorded with a label not printed"
    print(report)
