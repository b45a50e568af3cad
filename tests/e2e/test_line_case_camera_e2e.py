"""A whole line in case-camera mode: 300 units at 600 units/min with print and camera faults, a
unit of another batch slipped into one case and a scuffed code in another.

Every case recorded holds exactly the units the simulated packer put into it; a case with a
foreign or unreadable unit (or whose frame was lost) raises the alarm and is not recorded;
pallets hold the cases recorded on them, each with a verified label; the journal verifies and
the reconciliation balances.
"""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from ebr.allocation import CodeAllocator
from ebr.catalog import create_batch
from ebr.journal import EventKind, Journal, JournalEvent, verify_journal
from ebr.models import Code
from gateway.line.devices import open_line_devices
from gateway.line.runtime import LineRuntime
from gateway.simulation import CaseRecord, LineSimulation, UnitRecord
from tests.e2e.line_site import PRODUCT, LineSite, demo_site, faulty_line, open_line_site

UNITS = 300
RATE_UPM = 600.0

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


async def test_cases_hold_exactly_what_the_case_camera_read(tmp_path: Path) -> None:
    site = open_line_site(demo_site(tmp_path, case_mode="case-camera"))
    line = site.config.lines[0]
    engine = site.store.engine
    other_batch, foreign = _code_of_another_batch(site)
    try:
        async with (
            LineSimulation(
                line, base_dir=site.config.base_dir, options=faulty_line(RATE_UPM, seed=21)
            ) as simulation,
            open_line_devices(line, site.config.base_dir) as devices,
            LineRuntime(site.store, line, site.batch_id, devices) as runtime,
        ):
            await runtime.prepare(site.operator)

            async def tamper() -> None:
                while len(runtime.cases.packed) < 3:
                    await asyncio.sleep(0.05)
                simulation.put_in_next_case(foreign)
                while len(runtime.cases.packed) < 8:
                    await asyncio.sleep(0.05)
                simulation.scuff_in_next_case()

            tampering = asyncio.create_task(tamper())
            await runtime.run_units(UNITS, site.operator, timeout=120)
            await tampering
            report = runtime.report()
            truth = simulation.cases()
            units = simulation.ledger()
            pallet_labels = simulation.ledger("pallet")
            alarms = {(a.id, a.source): a.detail for a in runtime.alarms.standing()}
            not_in_a_case = set(runtime.not_in_a_case)
        verification = verify_journal(engine, site.batch_id)
        journal = [entry.event for entry in Journal(engine).entries(site.batch_id)]
        key_of = _keys_of_units(engine, units)
        data_of = _data_of(engine, [e.code_key for e in journal if e.code_key])
    finally:
        site.store.close()

    assert report["units"] >= UNITS
    assert report["reconciliation_balanced"], report
    assert verification.ok, verification
    assert verification.states_match, verification

    cases = _packed(journal, "case")
    faulty = {n for n, record in truth.items() if _tampered_or_unseen(record)}
    foreign_case = next(n for n, record in truth.items() if record.added)
    scuffed_case = next(n for n, record in truth.items() if record.scuffed)
    assert {foreign_case, scuffed_case} <= faulty
    assert set(cases) == set(truth) - faulty
    for number, (_, children) in cases.items():
        assert children == {key_of[ref] for ref in truth[number].unit_refs}, number
    assert report["cases_refused"] == len(faulty), report

    foreign_alarm = alarms[("CASE_CONTENTS_MISMATCH", f"case {foreign_case}")]
    assert "11 codes read, expected 10" in foreign_alarm
    assert "lot OTHER1 is not this batch's" in foreign_alarm
    assert f": a code of batch {other_batch})" in foreign_alarm
    assert ("FOREIGN_CODE", "case-camera") in alarms
    scuffed_alarm = alarms[("CASE_CONTENTS_MISMATCH", f"case {scuffed_case}")]
    scuffed_key = key_of[truth[scuffed_case].scuffed[0]]
    assert "9 codes read" in scuffed_alarm
    assert scuffed_key in scuffed_alarm, "the unread unit is named as missing"
    unseen = {key_of[ref] for n in faulty if truth[n].camera_fault for ref in truth[n].unit_refs}
    assert not_in_a_case == unseen | {scuffed_key}

    case_number = {code: number for number, (code, _) in cases.items()}
    pallets = _packed(journal, "pallet")
    assert pallets, "no pallet was packed"
    for number, (code, children) in pallets.items():
        on_pallet = {n for n, record in truth.items() if record.pallet == number} - faulty
        if not on_pallet:
            on_pallet = {n for n, record in truth.items() if record.pallet is None} - faulty
        assert {case_number[key] for key in children} == on_pallet, number
        label = next(e.unit_ref for e in _labels_of(journal, code))
        assert pallet_labels[label].printed_payload == data_of[code]
    print(report)


def _tampered_or_unseen(record: CaseRecord) -> bool:
    return bool(record.added or record.scuffed or record.camera_fault)


def _packed(journal: list[JournalEvent], level: str) -> dict[int, tuple[str, set[str]]]:
    """Container number → (its code, its children) for every container of `level` recorded."""
    return {
        int(event.data["number"]): (str(event.code_key), set(event.data["children"]))
        for event in journal
        if event.kind is EventKind.AGGREGATED
        and event.data.get("level") == level
        and "number" in event.data
    }


def _labels_of(journal: list[JournalEvent], code: str) -> list[JournalEvent]:
    return [e for e in journal if e.kind is EventKind.UNIT_ISSUED and e.code_key == code]


def _code_of_another_batch(site: LineSite) -> tuple[int, str]:
    engine = site.store.engine
    line = site.config.lines[0]
    batch = create_batch(
        engine,
        product_id=PRODUCT,
        line_id=line.id,
        lot="OTHER1",
        expiry=site.config.expiry_for(PRODUCT, date.today()),
        audit=site.store.audit,
    )
    allocator = CodeAllocator(engine, master_key=site.store.master_key)
    return batch, allocator.allocate(line.id, batch, 1)[0].data


def _keys_of_units(engine: Engine, ledger: dict[str, UnitRecord]) -> dict[str, str]:
    """Unit reference → the key of the code printed on it."""
    payloads = {r: u.printed_payload for r, u in ledger.items() if u.printed_payload is not None}
    with engine.connect() as conn:
        query = select(Code.data, Code.key).where(Code.data.in_(list(payloads.values())))
        key_of_data = dict(conn.execute(query).all())
    return {ref: key_of_data[data] for ref, data in payloads.items() if data in key_of_data}


def _data_of(engine: Engine, keys: list[str]) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(Code.key, Code.data).where(Code.key.in_(keys))).all())
