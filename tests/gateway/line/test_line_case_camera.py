"""The case-camera aggregation mode on the simulated line: a case is recorded with exactly the
units its camera read, or refused with an alarm, its units left for the rework station."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from drivers.base import UsageError
from ebr.journal import EventKind, Journal, verify_journal
from ebr.line_codes import code_info
from ebr.models import Code
from gateway.line.devices import open_line_devices
from gateway.line.runtime import LineRuntime
from gateway.simulation import (
    CameraFault,
    CaseRecord,
    LineSimulation,
    SimulationOptions,
    UnitRecord,
)
from serialization.states import CodeState
from tests.e2e.line_site import demo_site, open_line_site

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

CLEAN_LINE = SimulationOptions(
    rate_upm=600.0, gate_distance=8, autostart=False, frame_size=(320, 240), seed=5
)


async def test_case_camera_mode_refuses_to_start_without_a_case_camera(tmp_path: Path) -> None:
    site_file = demo_site(tmp_path, case_mode="case-camera")
    text = site_file.read_text(encoding="utf-8")
    text = re.sub(r"      - id: case-camera-1\n(        .*\n)+", "", text)
    site_file.write_text(text, encoding="utf-8")
    site = open_line_site(site_file)
    line = site.config.lines[0]
    try:
        async with (
            LineSimulation(line, base_dir=site.config.base_dir, options=CLEAN_LINE),
            open_line_devices(line, site.config.base_dir) as devices,
        ):
            with pytest.raises(UsageError, match="needs a device with role case-camera") as error:
                async with LineRuntime(site.store, line, site.batch_id, devices):
                    pass
            assert "add the case camera" in str(error.value.hint)
    finally:
        site.store.close()


async def test_a_lost_frame_and_a_copied_code_refuse_their_cases(tmp_path: Path) -> None:
    site = open_line_site(demo_site(tmp_path, case_mode="case-camera", case_contents_timeout_s=1))
    line = site.config.lines[0]
    engine = site.store.engine
    try:
        async with (
            LineSimulation(line, base_dir=site.config.base_dir, options=CLEAN_LINE) as simulation,
            open_line_devices(line, site.config.base_dir) as devices,
            LineRuntime(site.store, line, site.batch_id, devices) as runtime,
        ):
            station = runtime.case_camera
            assert station is not None
            await runtime.prepare(site.operator)
            while not runtime.cases.packed:
                await asyncio.sleep(0.05)
            simulation.lose_next_case_frame()
            while not station.refused:
                await asyncio.sleep(0.05)
            first = simulation.cases()[1].unit_refs[0]
            copied = simulation.ledger()[first].printed_payload
            assert copied is not None
            simulation.put_in_next_case(copied)
            while len(station.refused) < 2:
                await asyncio.sleep(0.05)
            truth = simulation.cases()
            lost, copied_case = _tampered(truth)
            key_of = _keys_of_units(engine, simulation.ledger())
            await runtime.rework.reaggregate(
                ["]d2" + _data(engine, key_of[ref]) for ref in truth[copied_case].unit_refs],
                site.operator,
            )
            await runtime.run_units(65, site.operator, timeout=60)
            report = runtime.report()
            truth = simulation.cases()
            key_of = _keys_of_units(engine, simulation.ledger())
            alarms = {(a.id, a.source): a.detail for a in runtime.alarms.standing()}
            not_in_a_case = list(runtime.not_in_a_case)
            seen_in = dict(station.seen_in)
            assert runtime.cases.packed_in, "the case camera's line keeps where units are"
        verification = verify_journal(engine, site.batch_id)
        journal = list(Journal(engine).entries(site.batch_id))
    finally:
        site.store.close()

    assert report["reconciliation_balanced"], report
    assert verification.ok, verification
    assert report["cases_refused"] == 2, report
    recorded = {
        e.event.data["number"]: set(e.event.data["children"])
        for e in journal
        if e.event.kind is EventKind.AGGREGATED and e.event.data.get("level") == "case"
        and "number" in e.event.data
    }  # fmt: skip
    assert lost not in recorded
    assert copied_case not in recorded
    for number, record in truth.items():
        if number not in (lost, copied_case):
            assert recorded[number] == {key_of[ref] for ref in record.unit_refs}, number

    lost_detail = alarms[("CASE_CONTENTS_MISMATCH", f"case {lost}")]
    assert f"case {lost} not recorded: no image of its contents within 1 s" in lost_detail
    copy_detail = alarms[("CASE_CONTENTS_MISMATCH", f"case {copied_case}")]
    first_key = key_of[truth[1].unit_refs[0]]
    assert "11 codes read, expected 10" in copy_detail
    assert f"{first_key} (already in case 1)" in copy_detail
    copied_keys = {key_of[ref] for ref in truth[copied_case].unit_refs} | {first_key}
    assert seen_in == dict.fromkeys(copied_keys, copied_case), "recorded cases are not kept"

    lost_keys = {key_of[ref] for ref in truth[lost].unit_refs}
    assert set(not_in_a_case) == lost_keys
    assert report["units_not_in_a_case"] == 10
    assert str(len(lost_keys)) in alarms[("CASE_CONTENTS_MISMATCH", "batch end")]
    for key in lost_keys:
        info = code_info(engine, key)
        assert info is not None
        assert info.state is CodeState.COMMISSIONED
        assert info.parent_key is None, "a unit no case showed waits for manual aggregation"
    reworked = {code_info(engine, key_of[ref]) for ref in truth[copied_case].unit_refs}
    assert len({info.parent_key for info in reworked if info is not None}) == 1
    assert all(info is not None and info.parent_key for info in reworked)


def _tampered(truth: dict[int, CaseRecord]) -> tuple[int, int]:
    """The case whose frame was lost and the one a copied code was put into."""
    lost = next(r.number for r in truth.values() if r.camera_fault is CameraFault.LOST_TRIGGER)
    copied = next(r.number for r in truth.values() if r.added)
    return lost, copied


def _keys_of_units(engine: Engine, ledger: dict[str, UnitRecord]) -> dict[str, str]:
    """Unit reference → the key of the code printed on it."""
    payloads = {
        ref: record.printed_payload
        for ref, record in ledger.items()
        if record.printed_payload is not None
    }
    with engine.connect() as conn:
        rows = conn.execute(select(Code.data, Code.key).where(Code.data.in_(payloads.values())))
        key_of_data = dict(rows.all())
    return {ref: key_of_data[data] for ref, data in payloads.items() if data in key_of_data}


def _data(engine: Engine, key: str) -> str:
    with engine.connect() as conn:
        return str(conn.execute(select(Code.data).where(Code.key == key)).scalar_one())
