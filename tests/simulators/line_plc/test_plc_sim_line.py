"""Conveyor, shift register, reject gate, bin sensor and packing signals, on an injected clock."""

from __future__ import annotations

import pytest

from simulators.line_plc.line import EventKind, Line, LineConfig, LineEvent


def run(line: Line, seconds: float, step: float = 0.01, start: float = 0.0) -> list[LineEvent]:
    line.running = True
    line.advance(start)
    events: list[LineEvent] = []
    t = start
    for _ in range(round(seconds / step)):
        t += step
        events += line.advance(t)
    return events


def kinds(events: list[LineEvent], kind: EventKind) -> list[int]:
    return [e.ref for e in events if e.kind is kind]


def test_units_trigger_at_the_configured_rate_with_increasing_references() -> None:
    line = Line(LineConfig(rate_upm=600))
    events = run(line, 3.0)
    triggers = kinds(events, EventKind.UNIT_TRIGGER)
    assert triggers == list(range(1, 31))
    assert line.counters.total == 30


def test_nothing_moves_while_not_running() -> None:
    line = Line(LineConfig(rate_upm=600))
    line.advance(0.0)
    assert line.advance(10.0) == []


def test_reject_hits_exactly_the_named_unit_at_the_gate() -> None:
    line = Line(LineConfig(rate_upm=600, gate_distance=3, fail_safe=False))
    events = run(line, 0.5)
    assert kinds(events, EventKind.UNIT_TRIGGER) == [1, 2, 3, 4, 5]
    assert line.on_conveyor() == [5, 4, 3]
    assert line.reject(4)
    assert not line.reject(1), "unit 1 already passed the gate"
    assert not line.reject(99), "unit 99 does not exist yet"
    more = run(line, 0.5, start=0.5)
    assert kinds(more, EventKind.UNIT_REJECTED) == [4]
    assert 4 not in kinds(more, EventKind.UNIT_PASSED)
    assert line.counters.rejected == 1
    assert line.counters.good == line.counters.total - 3 - 1


def test_missed_rejects_follow_the_configured_rate() -> None:
    line = Line(
        LineConfig(rate_upm=6000, gate_distance=2, missed_reject_rate=0.3, fail_safe=False, seed=7)
    )
    line.running = True
    line.advance(0.0)
    t = 0.0
    asked = 0
    for _ in range(2000):
        t += 0.01
        line.advance(t)
        newest = line.on_conveyor()[0]
        if line.reject(newest):
            asked += 1
    c = line.counters
    assert c.rejected + c.missed_rejects == asked - len(line.on_conveyor())
    assert 0.2 < c.missed_rejects / (c.rejected + c.missed_rejects) < 0.4


def test_cases_and_pallets_complete_every_n() -> None:
    line = Line(
        LineConfig(
            rate_upm=6000, gate_distance=1, units_per_case=5, cases_per_pallet=3, fail_safe=False
        )
    )
    events = run(line, 1.0)
    assert line.counters.good == 99
    assert kinds(events, EventKind.CASE_COMPLETE) == list(range(1, 20))
    assert kinds(events, EventKind.PALLET_COMPLETE) == [1, 2, 3, 4, 5, 6]
    assert line.counters.units_in_case == 4


@pytest.mark.parametrize(
    "kwargs",
    [{"rate_upm": 0}, {"gate_distance": 0}, {"missed_reject_rate": 1.5}, {"units_per_case": 0}],
)
def test_bad_configuration_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        LineConfig(**kwargs)  # type: ignore[arg-type]
