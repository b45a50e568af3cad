"""The pipeline's unit window: bounded by time once units settle, never losing an open unit
before its hard limit."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.line.unit_window import UnitWindow


@dataclass
class Unit:
    ref: int
    triggered_at: float
    settled: bool = True
    timers: list[asyncio.TimerHandle] = field(default_factory=list)


def test_settled_units_are_let_go_after_the_settle_time_keeping_the_recent_ones() -> None:
    window: UnitWindow[Unit] = UnitWindow(settle_s=10.0, keep_recent=5, hard_limit=100)
    for ref in range(50):
        window.add(Unit(ref, triggered_at=ref * 1.0), now=ref * 1.0)
    assert len(window) == 11, "units of the last 10 s, the window's settle time"
    assert min(window) == 39
    assert window.get(38) is None
    assert window[49].ref == 49


def test_an_open_unit_holds_the_window_until_it_settles() -> None:
    window: UnitWindow[Unit] = UnitWindow(settle_s=1.0, keep_recent=2, hard_limit=100)
    stuck = Unit(0, triggered_at=0.0, settled=False)
    window.add(stuck, now=0.0)
    for ref in range(1, 30):
        window.add(Unit(ref, triggered_at=float(ref)), now=float(ref))
    assert 0 in window, "an open unit is never let go below the hard limit"
    assert len(window) == 30, "nothing newer is let go past an open unit"
    stuck.settled = True
    window.add(Unit(30, triggered_at=30.0), now=30.0)
    assert len(window) == 2


def test_the_hard_limit_drops_the_oldest_and_cancels_its_timers() -> None:
    loop = asyncio.new_event_loop()
    try:
        window: UnitWindow[Unit] = UnitWindow(settle_s=1.0, keep_recent=2, hard_limit=3)
        first = Unit(0, triggered_at=0.0, settled=False)
        first.timers.append(loop.call_later(60, lambda: None))
        window.add(first, now=0.0)
        for ref in range(1, 4):
            window.add(Unit(ref, triggered_at=0.0, settled=False), now=0.0)
        assert list(window) == [1, 2, 3]
        assert first.timers[0].cancelled()
    finally:
        loop.close()


def test_limits_that_cannot_hold_are_refused() -> None:
    with pytest.raises(ValueError, match="keep_recent"):
        UnitWindow(settle_s=1.0, keep_recent=10, hard_limit=5)


@given(
    st.lists(st.tuples(st.floats(0.0, 3.0), st.booleans()), min_size=1, max_size=300),
    st.integers(1, 20),
    st.integers(0, 40),
)
def test_the_window_is_bounded_and_keeps_every_open_unit(
    steps: list[tuple[float, bool]], keep_recent: int, extra: int
) -> None:
    hard_limit = keep_recent + extra
    units: dict[int, Unit] = {}
    window: UnitWindow[Unit] = UnitWindow(
        settle_s=5.0, keep_recent=keep_recent, hard_limit=hard_limit
    )
    now = 0.0
    for ref, (gap, settled) in enumerate(steps):
        now += gap
        before = set(window)
        window.add(Unit(ref, triggered_at=now, settled=settled), now=now)
        assert len(window) <= hard_limit
        assert list(window) == sorted(window), "oldest first"
        assert list(window)[-1] == ref, "the newest unit is always tracked"
        assert len(window) >= min(ref + 1, keep_recent), "the most recent units are kept"
        for gone in before - set(window):
            unit = units[gone]
            let_go = unit.settled and unit.triggered_at < now - 5.0
            assert let_go or len(before) == hard_limit, f"unit {gone} dropped while needed"
        units[ref] = window[ref]
