"""The fail-safe gate: only units with an ACCEPT verdict in time pass; what happened is kept.
Verdicts held in flight (fault injection) are never applied."""

from __future__ import annotations

import asyncio

from asyncua import Client, ua
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.line_plc.protocol import VerdictAck
from simulators.line_plc.line import (
    EventKind,
    GateOutcome,
    Line,
    LineConfig,
    LineEvent,
)
from simulators.line_plc.packml import Command, State
from simulators.line_plc.server import LinePlcServer
from simulators.ports import free_port


def started(config: LineConfig) -> Line:
    line = Line(config)
    line.running = True
    line.advance(0.0)
    return line


def step(line: Line, pitches: int = 1) -> list[LineEvent]:
    """Move the conveyor by exactly `pitches` units (60 upm: one unit a second)."""
    assert line.config.rate_upm == 60
    now = line._last_time or 0.0
    events: list[LineEvent] = []
    for _ in range(pitches):
        now += 1.0
        events += line.advance(now)
    return events


def test_units_without_a_verdict_are_rejected_and_accepted_ones_pass() -> None:
    line = started(LineConfig(rate_upm=60, gate_distance=3))
    step(line, 3)
    assert line.on_conveyor() == [3, 2, 1]
    assert line.set_verdict(1, accept=True) is VerdictAck.APPLIED
    assert line.set_verdict(3, accept=True) is VerdictAck.APPLIED
    events = step(line, 3)
    assert [e.ref for e in events if e.kind is EventKind.UNIT_PASSED] == [1, 3]
    assert [e.ref for e in events if e.kind is EventKind.UNIT_REJECTED] == [2]
    assert {ref: o.gate for ref, o in line.outcomes.items()} == {
        1: GateOutcome.PASSED,
        2: GateOutcome.REJECTED,
        3: GateOutcome.PASSED,
    }
    assert line.outcomes[1].accepted
    assert line.outcomes[1].verdict_margin == 1, "unit 1 was one pitch before the gate"
    assert line.outcomes[3].verdict_margin == 3
    assert line.outcomes[1].verdict_at == 3.0
    assert not line.outcomes[2].accepted
    assert line.outcomes[2].verdict is None
    assert line.counters.rejected == 1


def test_verdict_acknowledgements() -> None:
    line = started(LineConfig(rate_upm=60, gate_distance=2))
    assert line.set_verdict(1, accept=True) is VerdictAck.UNKNOWN, "nothing triggered yet"
    step(line, 4)
    assert line.on_conveyor() == [4, 3]
    assert line.set_verdict(2, accept=True) is VerdictAck.LATE, "unit 2 passed the gate"
    assert line.set_verdict(5, accept=True) is VerdictAck.UNKNOWN
    assert line.set_verdict(0, accept=True) is VerdictAck.UNKNOWN
    assert line.set_verdict(3, accept=True) is VerdictAck.APPLIED
    assert line.set_verdict(3, accept=True) is VerdictAck.APPLIED, "the same verdict again"
    assert line.set_verdict(3, accept=False) is VerdictAck.CONFLICT
    assert line.set_verdict(4, accept=False) is VerdictAck.APPLIED
    assert line.set_verdict(4, accept=True) is VerdictAck.CONFLICT
    assert not line.reject(3), "reject is a REJECT verdict: it conflicts with the ACCEPT"
    step(line, 2)
    assert line.outcomes[3].gate is GateOutcome.PASSED, "the first verdict stays"
    assert line.outcomes[4].gate is GateOutcome.REJECTED
    assert line.outcomes[4].verdict is False


def test_without_fail_safe_only_rejected_units_go_to_the_bin() -> None:
    line = started(LineConfig(rate_upm=60, gate_distance=2, fail_safe=False))
    step(line, 2)
    assert line.reject(2)
    step(line, 3)
    assert [o.gate for o in line.outcomes.values()] == [
        GateOutcome.PASSED,
        GateOutcome.REJECTED,
        GateOutcome.PASSED,
    ]


def test_a_missed_reject_is_recorded_as_such() -> None:
    line = started(LineConfig(rate_upm=60, gate_distance=1, missed_reject_rate=1.0))
    events = step(line, 2)
    assert line.outcomes[1].gate is GateOutcome.REJECT_MISSED
    assert [e.kind for e in events if e.ref == 1][-2:] == [
        EventKind.REJECT_MISSED,
        EventKind.UNIT_PASSED,
    ]
    assert line.counters.missed_rejects == 1


@settings(max_examples=150, deadline=None)
@given(
    gate_distance=st.integers(1, 5),
    fail_safe=st.booleans(),
    actions=st.lists(
        st.one_of(
            st.just("step"),
            st.tuples(st.integers(-1, 40), st.booleans()),
        ),
        max_size=80,
    ),
)
def test_the_gate_obeys_the_first_timely_verdict(
    gate_distance: int, fail_safe: bool, actions: list[str | tuple[int, bool]]
) -> None:
    line = started(LineConfig(rate_upm=60, gate_distance=gate_distance, fail_safe=fail_safe))
    first: dict[int, bool] = {}
    for action in actions:
        if action == "step":
            step(line)
            continue
        assert isinstance(action, tuple)
        ref, accept = action
        before = set(line.on_conveyor())
        ack = line.set_verdict(ref, accept)
        if ref in before:
            expected = (
                VerdictAck.APPLIED if first.setdefault(ref, accept) == accept else
                VerdictAck.CONFLICT
            )  # fmt: skip
            assert ack is expected
        elif 1 <= ref <= line.counters.total:
            assert ack is VerdictAck.LATE
        else:
            assert ack is VerdictAck.UNKNOWN
    for ref, outcome in line.outcomes.items():
        verdict = first.get(ref)
        passes = verdict if verdict is not None else not fail_safe
        assert outcome.gate is (GateOutcome.PASSED if passes else GateOutcome.REJECTED)
        assert outcome.verdict == verdict
    assert len(line.outcomes) == max(0, line.counters.total - gate_distance)
    assert line.counters.rejected + line.counters.good == len(line.outcomes)


async def test_held_verdicts_are_never_applied_and_answered_late_on_release() -> None:
    config = LineConfig(rate_upm=60, gate_distance=50)
    async with LinePlcServer(port=free_port(), line=config, acting_time_s=0.01) as plc:
        plc.command(Command.RESET)
        while plc.machine.state is not State.IDLE:
            await asyncio.sleep(0.01)
        plc.command(Command.START)
        while not plc.line.on_conveyor():
            await asyncio.sleep(0.01)
        client = Client(plc.endpoint, timeout=10)
        async with client:
            conveyor = client.get_node(plc.node_id("Conveyor"))
            set_verdict = client.get_node(plc.node_id("Conveyor.SetVerdict"))
            ref = ua.Variant(1, ua.VariantType.Int64)

            plc.hold_verdicts()
            held = asyncio.ensure_future(conveyor.call_method(set_verdict, ref, True))
            await asyncio.sleep(0.3)
            assert not held.done(), "a held verdict got an answer"
            plc.release_verdicts()
            assert await asyncio.wait_for(held, 5) == VerdictAck.LATE
            assert plc.line.on_conveyor()[-1] == 1, "unit 1 reached the gate meanwhile"
            assert plc.line.set_verdict(1, accept=False) is VerdictAck.APPLIED, (
                "the held ACCEPT was applied"
            )
            assert await conveyor.call_method(set_verdict, ref, False) == VerdictAck.APPLIED
