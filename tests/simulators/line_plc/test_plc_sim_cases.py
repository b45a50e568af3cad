"""The case packer and palletizer remember what went where; a partial case closes on Stop."""

from __future__ import annotations

import asyncio

from simulators.line_plc.line import EventKind, GateOutcome, Line, LineConfig, LineEvent
from simulators.line_plc.packml import Command, State
from simulators.line_plc.server import LinePlcServer
from simulators.ports import free_port


def _run(line: Line, seconds: float, step: float = 0.01) -> list[LineEvent]:
    line.running = True
    line.advance(0.0)
    events: list[LineEvent] = []
    for tick in range(1, round(seconds / step) + 1):
        events += line.advance(tick * step)
    return events


def test_each_case_holds_the_units_that_passed_in_order_and_pallets_hold_cases() -> None:
    line = Line(LineConfig(rate_upm=600, gate_distance=2, units_per_case=3, cases_per_pallet=2))
    events: list[LineEvent] = []
    line.running = True
    line.advance(0.0)
    for tick in range(1, 300):
        for ref in line.on_conveyor():
            line.set_verdict(ref, accept=ref % 5 != 0)
        events += line.advance(tick * 0.01)

    outcomes = sorted(line.outcomes.items())
    passed = [ref for ref, outcome in outcomes if outcome.gate is GateOutcome.PASSED]
    cases = [e.ref for e in events if e.kind is EventKind.CASE_COMPLETE]
    assert cases == sorted(line.cases)
    packed = [unit for number in sorted(line.cases) for unit in line.cases[number]]
    assert packed == passed[: len(packed)]
    assert all(len(units) == 3 for units in line.cases.values())
    assert all(unit % 5 != 0 for unit in packed)
    assert line.pallets[1] == (1, 2)
    assert line.pallet_of(1) == 1
    assert line.pallet_of(max(line.cases) + 1) is None


def test_close_case_takes_the_partial_case_and_nothing_when_empty() -> None:
    line = Line(LineConfig(rate_upm=600, gate_distance=1, units_per_case=10, fail_safe=False))
    _run(line, 0.45)
    in_case = line.counters.units_in_case
    assert 0 < in_case < 10
    closed = line.close_case()
    assert closed == [LineEvent(EventKind.CASE_COMPLETE, 1)]
    assert len(line.cases[1]) == in_case
    assert line.counters.units_in_case == 0
    assert line.close_case() == []


async def test_stop_closes_the_partial_case_when_configured() -> None:
    seen: list[LineEvent] = []
    config = LineConfig(rate_upm=1200, gate_distance=1, units_per_case=50, fail_safe=False,
                        close_case_on_stop=True)  # fmt: skip
    async with LinePlcServer(
        port=free_port(), line=config, acting_time_s=0.01, on_line_event=seen.append
    ) as plc:
        plc.command(Command.RESET)
        while plc.machine.state is not State.IDLE:
            await asyncio.sleep(0.01)
        plc.command(Command.START)
        while plc.line.counters.good < 3:
            await asyncio.sleep(0.01)
        plc.command(Command.STOP)
        while not plc.line.cases:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
    assert 3 <= len(plc.line.cases[1]) < 50
    assert [e.ref for e in seen if e.kind is EventKind.CASE_COMPLETE] == [1]
    triggers = [e.ref for e in seen if e.kind is EventKind.UNIT_TRIGGER]
    assert triggers == list(range(1, len(triggers) + 1))


async def test_stop_leaves_the_partial_case_alone_by_default() -> None:
    config = LineConfig(rate_upm=1200, gate_distance=1, units_per_case=50, fail_safe=False)
    async with LinePlcServer(port=free_port(), line=config, acting_time_s=0.01) as plc:
        plc.command(Command.RESET)
        while plc.machine.state is not State.IDLE:
            await asyncio.sleep(0.01)
        plc.command(Command.START)
        while plc.line.counters.good < 2:
            await asyncio.sleep(0.01)
        plc.command(Command.STOP)
        await asyncio.sleep(0.05)
    assert plc.line.cases == {}
    assert plc.line.counters.units_in_case >= 2
