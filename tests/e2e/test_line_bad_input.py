"""Bad input on a running line: each raises an alarm or a clear error; nothing is accepted
silently. Also the handheld-scanner rework operations and their rules."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drivers.base import Frame, PixelFormat
from ebr.allocation import CodeAllocator
from ebr.catalog import create_batch
from ebr.journal import EventKind, Journal, verify_journal
from ebr.line_codes import code_info
from gateway.line.devices import open_line_devices
from gateway.line.rework import ForeignCodeError, Reason, ReworkError
from gateway.line.runtime import LineRuntime
from gateway.simulation import LineSimulation, SimulationOptions
from serialization.states import CodeState
from tests.e2e.line_site import PRODUCT, demo_site, open_line_site

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def _alarm_ids(runtime: LineRuntime) -> set[str]:
    return {alarm.id for alarm in runtime.alarms.standing()}


async def test_bad_input_alarms_and_rework_rules(tmp_path: Path) -> None:
    site = open_line_site(demo_site(tmp_path))
    line = site.config.lines[0]
    options = SimulationOptions(
        rate_upm=1200.0, gate_distance=8, autostart=False, frame_size=(320, 240), seed=3
    )
    conflicting: list[int] = []
    try:
        async with (
            LineSimulation(line, base_dir=site.config.base_dir, options=options) as simulation,
            open_line_devices(line, site.config.base_dir) as devices,
            LineRuntime(site.store, line, site.batch_id, devices) as runtime,
        ):
            plc = simulation.plc
            assert plc is not None
            pipeline = runtime.pipeline
            real_trigger = pipeline.on_trigger

            def trigger_with_a_conflict(ref: int, at: float) -> None:
                if ref % 25 == 0:
                    plc.line.set_verdict(ref, False)
                    conflicting.append(ref)
                real_trigger(ref, at)

            pipeline.on_trigger = trigger_with_a_conflict  # type: ignore[method-assign]
            await runtime.prepare(site.operator)
            while len(pipeline.ledger.accepted) < 60:
                await asyncio.sleep(0.05)

            issued = len(pipeline.ledger.issued)
            last = max(pipeline.units)
            pipeline.on_trigger(last, 0.0)
            assert "DUPLICATE_TRIGGER" in _alarm_ids(runtime)
            assert len(pipeline.ledger.issued) <= issued + 2

            pipeline.on_image(
                Frame("987654321", 4, 4, PixelFormat.MONO8, b"\0" * 16, datetime.now(UTC))
            )
            assert "UNKNOWN_UNIT" in _alarm_ids(runtime)
            assert pipeline.counts.unknown_units == 1

            await asyncio.sleep(0.5)
            assert "OUT_OF_ORDER_ACK" in _alarm_ids(runtime)
            for ref in conflicting[:2]:
                track = pipeline.units[ref]
                assert track.decision == "rejected"
                if track.code is not None:
                    info = code_info(site.store.engine, track.code.key)
                    assert info is not None
                    assert info.state is not CodeState.COMMISSIONED

            while len(runtime.cases.packed) < 3:
                await asyncio.sleep(0.05)
            await _rework(site, runtime)
            await runtime.finish(site.operator)
            report = runtime.report()
        verification = verify_journal(site.store.engine, site.batch_id)
    finally:
        site.store.close()
    assert report["reconciliation_balanced"], report
    assert verification.ok
    assert verification.states_match


async def _rework(site: object, runtime: LineRuntime) -> None:
    from tests.e2e.line_site import LineSite

    assert isinstance(site, LineSite)
    engine = site.store.engine
    rework = runtime.rework
    operator = site.operator
    case = runtime.cases.packed[0]
    unit_key = case.children[0]
    first = next(e for e in Journal(engine).entries(site.batch_id) if e.event.code_key == unit_key)
    assert first.event.kind is EventKind.UNIT_ISSUED

    def data_of(key: str) -> str:
        return _data(engine, key)

    case_text = "]C1" + data_of(case.code.key)
    unit_text = "]d2" + data_of(unit_key)

    await rework.remove_child(case_text, unit_text, operator)
    assert code_info(engine, unit_key).parent_key is None  # type: ignore[union-attr]
    with pytest.raises(ReworkError, match="not in case"):
        await rework.remove_child(case_text, unit_text, operator)
    await rework.add_child(case_text, unit_text, operator)
    assert code_info(engine, unit_key).parent_key == case.code.key  # type: ignore[union-attr]
    other = runtime.cases.packed[1]
    with pytest.raises(ReworkError, match="already"):
        await rework.add_child("]C1" + data_of(other.code.key), unit_text, operator)

    rejected = next(iter(runtime.pipeline.ledger.rejected))
    with pytest.raises(ReworkError, match="Commissioned"):
        await rework.add_child(case_text, "]d2" + data_of(rejected), operator)

    new_case = await rework.replace_label(case_text, operator, Reason.DAMAGED)
    assert code_info(engine, unit_key).parent_key == new_case  # type: ignore[union-attr]
    assert code_info(engine, case.code.key).state is CodeState.DESTROYED  # type: ignore[union-attr]

    await rework.remove_child("]C1" + _data(engine, new_case), unit_text, operator)
    await rework.sample(unit_text, operator, destructive=True, reason="QA retain sample")
    assert code_info(engine, unit_key).state is CodeState.SAMPLED  # type: ignore[union-attr]
    second = other.children[0]
    await rework.remove_child("]C1" + data_of(other.code.key), "]d2" + data_of(second), operator)
    await rework.destroy("]d2" + data_of(second), operator, Reason.DAMAGED)
    assert code_info(engine, second).state is CodeState.DESTROYED  # type: ignore[union-attr]

    await rework.unpack("]C1" + data_of(other.code.key), operator, reason="repack")
    rest = other.children[1:4]
    repacked = await rework.reaggregate(["]d2" + data_of(k) for k in rest], operator)
    for key in rest:
        assert code_info(engine, key).parent_key == repacked  # type: ignore[union-attr]

    foreign_batch = create_batch(
        engine,
        product_id=PRODUCT,
        line_id=site.config.lines[0].id,
        lot="FOREIGN1",
        expiry=site.config.expiry_for(PRODUCT, datetime.now(UTC).date()),
        audit=site.store.audit,
    )
    foreign = CodeAllocator(engine, master_key=site.store.master_key).allocate(
        site.config.lines[0].id, foreign_batch, 1
    )[0]
    with pytest.raises(ForeignCodeError, match="belongs to batch"):
        await rework.add_child(case_text, "]d2" + foreign.data, operator)
    assert "FOREIGN_CODE" in {a.id for a in runtime.alarms.standing()}
    with pytest.raises(ReworkError, match="not a code"):
        await rework.destroy("hello", operator, Reason.DAMAGED)


def _data(engine: object, key: str) -> str:
    from sqlalchemy import Engine, select

    from ebr.models import Code

    assert isinstance(engine, Engine)
    with engine.connect() as conn:
        return str(conn.execute(select(Code.data).where(Code.key == key)).scalar_one())
