"""The units the pipeline still tracks: every unit until it is settled and its last timer has
passed, then only the most recent few.

A batch runs for hours; keeping every unit (or a fixed 20,000) made the gateway's memory grow
with the batch. A unit is needed only while something about it can still happen: its verdict,
its acknowledgement by the PLC, its bin confirmation (`reject_confirm_s` after its trigger), and
a little longer for a late bin event. After that the window keeps `keep_recent` units for the
HMI's recent images and lets the rest go. `hard_limit` bounds the window even when units never
settle (a PLC that never acknowledges): the oldest are dropped, their timers cancelled.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Iterator, ValuesView
from typing import Generic, Protocol, TypeVar


class WindowedUnit(Protocol):
    @property
    def ref(self) -> int: ...

    @property
    def triggered_at(self) -> float: ...

    @property
    def settled(self) -> bool: ...

    @property
    def timers(self) -> list[asyncio.TimerHandle]: ...


U = TypeVar("U", bound=WindowedUnit)

KEEP_RECENT = 256
HARD_LIMIT = 20_000
LATE_EVENT_MARGIN_S = 5.0


class UnitWindow(Generic[U]):
    def __init__(
        self,
        *,
        settle_s: float,
        keep_recent: int = KEEP_RECENT,
        hard_limit: int = HARD_LIMIT,
    ) -> None:
        if keep_recent < 1 or hard_limit < keep_recent:
            raise ValueError(
                f"keep_recent {keep_recent} and hard_limit {hard_limit}: "
                "need 1 <= keep_recent <= hard_limit"
            )
        self.settle_s = settle_s
        """How long after its trigger a settled unit may still get an event."""
        self.keep_recent = keep_recent
        self.hard_limit = hard_limit
        self._units: OrderedDict[int, U] = OrderedDict()

    @classmethod
    def for_line(cls, *, verdict_deadline_s: float, reject_confirm_s: float) -> UnitWindow[U]:
        return cls(settle_s=max(verdict_deadline_s, reject_confirm_s) + LATE_EVENT_MARGIN_S)

    def add(self, unit: U, now: float) -> None:
        """Track `unit` (its reference higher than any tracked) and let go of old units."""
        self._units[unit.ref] = unit
        self._forget_old(now)

    def _forget_old(self, now: float) -> None:
        passed = now - self.settle_s
        while len(self._units) > self.keep_recent:
            oldest = next(iter(self._units.values()))
            done = oldest.settled and oldest.triggered_at < passed
            if not done and len(self._units) <= self.hard_limit:
                return
            del self._units[oldest.ref]
            for timer in oldest.timers:
                timer.cancel()

    def get(self, ref: int) -> U | None:
        return self._units.get(ref)

    def __getitem__(self, ref: int) -> U:
        return self._units[ref]

    def __contains__(self, ref: object) -> bool:
        return ref in self._units

    def __iter__(self) -> Iterator[int]:
        return iter(self._units)

    def __len__(self) -> int:
        return len(self._units)

    def values(self) -> ValuesView[U]:
        return self._units.values()
