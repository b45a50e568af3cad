"""The simulated line's mechanics: conveyor, shift register, reject gate, case packer, palletizer.

Sans-IO and clock-free: `advance(now)` moves the conveyor by however many unit pitches fit in
the elapsed time and returns what happened, so tests can drive it with any time base.

The gate is fail-safe by default, as on a real serialization line: a unit is let through only
when an ACCEPT verdict for it arrived before it reached the gate; no verdict, a REJECT verdict
or a late one all end in the reject bin. What physically happened to every unit is kept in
`Line.outcomes`, which units went into each case in `Line.cases` and which cases onto each
pallet in `Line.pallets`, so a test can compare it with what the gateway believes.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field, replace
from enum import StrEnum

from drivers.line_plc.protocol import OutcomeCode, VerdictAck


class EventKind(StrEnum):
    UNIT_TRIGGER = "unit_trigger"
    """A unit passed the trigger sensor (printer/camera station); `ref` is its unit reference."""
    UNIT_PASSED = "unit_passed"
    """A unit passed the reject gate and goes on to the case packer."""
    UNIT_REJECTED = "unit_rejected"
    """The gate fired and the bin sensor saw the unit fall."""
    REJECT_MISSED = "reject_missed"
    """The gate should have rejected the unit but it went through (fault injection)."""
    CASE_COMPLETE = "case_complete"
    PALLET_COMPLETE = "pallet_complete"


class GateOutcome(StrEnum):
    PASSED = "PASSED"
    REJECTED = "REJECTED"
    REJECT_MISSED = "REJECT_MISSED"
    """The gate fired but the unit went through (missed-reject fault injection)."""


@dataclass(frozen=True, slots=True)
class UnitOutcome:
    """What physically happened to one unit at the gate, and the verdict it had by then."""

    ref: int
    gate: GateOutcome
    verdict: bool | None
    """True for ACCEPT, False for REJECT, None when no verdict arrived in time."""
    verdict_at: float | None
    """Line time (the clock given to `advance`) of the last advance before the verdict."""
    verdict_margin: int | None
    """Unit pitches the unit still had to travel to the gate when its verdict arrived."""

    @property
    def accepted(self) -> bool:
        """An ACCEPT verdict was received before the unit reached the gate."""
        return self.verdict is True


@dataclass(frozen=True, slots=True)
class _Verdict:
    accept: bool
    at: float | None
    margin: int


_PHASE_EPSILON = 1e-9
"""Absorbs float drift so a pitch due exactly at a tick is not postponed to the next one."""


@dataclass(frozen=True, slots=True)
class LineEvent:
    kind: EventKind
    ref: int
    """Unit reference, or the case / pallet number for the packing events."""


@dataclass(frozen=True, slots=True)
class LineConfig:
    rate_upm: float = 120.0
    gate_distance: int = 4
    """Unit pitches from the trigger sensor to the reject gate (the shift-register length)."""
    units_per_case: int = 10
    cases_per_pallet: int = 8
    missed_reject_rate: float = 0.0
    fail_safe: bool = True
    """Reject every unit without an ACCEPT verdict; False rejects only units given REJECT."""
    close_case_on_stop: bool = False
    """The case packer closes the partial case it holds when the line is stopped (end-of-batch
    empty-out) and signals it like a full one."""
    seed: int | None = None

    def __post_init__(self) -> None:
        if not self.rate_upm > 0:
            raise ValueError(f"rate_upm must be > 0, got {self.rate_upm}")
        if self.gate_distance < 1:
            raise ValueError(f"gate_distance must be >= 1, got {self.gate_distance}")
        if self.units_per_case < 1 or self.cases_per_pallet < 1:
            raise ValueError("units_per_case and cases_per_pallet must be >= 1")
        if not 0.0 <= self.missed_reject_rate <= 1.0:
            raise ValueError(f"missed_reject_rate must be in [0, 1], got {self.missed_reject_rate}")


@dataclass
class Counters:
    total: int = 0
    good: int = 0
    rejected: int = 0
    """Bin sensor count: units actually seen falling into the reject bin."""
    missed_rejects: int = 0
    cases: int = 0
    pallets: int = 0
    units_in_case: int = 0
    cases_on_pallet: int = 0


@dataclass
class Line:
    config: LineConfig = field(default_factory=LineConfig)
    counters: Counters = field(default_factory=Counters)
    running: bool = False
    _register: deque[int | None] = field(init=False)
    outcomes: dict[int, UnitOutcome] = field(default_factory=dict, init=False)
    """Unit reference → what happened at the gate, for every unit that reached it."""
    cases: dict[int, tuple[int, ...]] = field(default_factory=dict, init=False)
    """Case number → the unit references the packer put into it, in order."""
    pallets: dict[int, tuple[int, ...]] = field(default_factory=dict, init=False)
    """Pallet number → the case numbers stacked on it, in order."""
    _open_case: list[int] = field(default_factory=list, init=False)
    _open_pallet: list[int] = field(default_factory=list, init=False)
    _verdicts: dict[int, _Verdict] = field(default_factory=dict, init=False)
    _next_ref: int = field(default=1, init=False)
    _last_time: float | None = field(default=None, init=False)
    _phase: float = field(default=0.0, init=False)
    _random: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._register = deque([None] * self.config.gate_distance, maxlen=self.config.gate_distance)
        self._random = random.Random(self.config.seed)  # noqa: S311 - simulation, not security

    @property
    def rate_upm(self) -> float:
        return self.config.rate_upm

    def set_rate(self, rate_upm: float) -> None:
        if not rate_upm > 0:
            raise ValueError(f"rate must be > 0 units per minute, got {rate_upm}")
        self.config = replace(self.config, rate_upm=rate_upm)

    def on_conveyor(self) -> list[int]:
        """References between the trigger sensor and the gate, newest first."""
        return [ref for ref in self._register if ref is not None]

    def set_verdict(self, ref: int, accept: bool, *, now: float | None = None) -> VerdictAck:
        """Tell the gate what to do with unit `ref`; the first verdict for a unit stays.

        `now` is the verdict's line time for `outcomes`; by default the last `advance` time.
        """
        if not 1 <= ref < self._next_ref:
            return VerdictAck.UNKNOWN
        if ref not in self._register:
            return VerdictAck.LATE
        earlier = self._verdicts.get(ref)
        if earlier is not None:
            return VerdictAck.APPLIED if earlier.accept == accept else VerdictAck.CONFLICT
        margin = len(self._register) - self._register.index(ref)
        self._verdicts[ref] = _Verdict(accept, self._last_time if now is None else now, margin)
        return VerdictAck.APPLIED

    def reject(self, ref: int) -> bool:
        """Give `ref` a REJECT verdict; False when it is not (or no longer) before the gate."""
        return self.set_verdict(ref, accept=False) is VerdictAck.APPLIED

    def advance(self, now: float) -> list[LineEvent]:
        if self._last_time is None or not self.running:
            self._last_time = now
            return []
        elapsed = max(0.0, now - self._last_time)
        self._last_time = now
        self._phase += elapsed * self.config.rate_upm / 60.0
        events: list[LineEvent] = []
        while self._phase >= 1.0 - _PHASE_EPSILON:
            self._phase -= 1.0
            events.extend(self._step())
        return events

    def _step(self) -> list[LineEvent]:
        events: list[LineEvent] = []
        leaving = self._register[-1]
        ref = self._next_ref
        self._next_ref += 1
        self._register.appendleft(ref)
        self.counters.total += 1
        events.append(LineEvent(EventKind.UNIT_TRIGGER, ref))
        if leaving is not None:
            events.extend(self._at_gate(leaving))
        return events

    def _at_gate(self, ref: int) -> list[LineEvent]:
        verdict = self._verdicts.pop(ref, None)
        fire = self.config.fail_safe if verdict is None else not verdict.accept
        if not fire:
            self._record(ref, GateOutcome.PASSED, verdict)
            return self._pack(ref)
        if self._random.random() >= self.config.missed_reject_rate:
            self.counters.rejected += 1
            self._record(ref, GateOutcome.REJECTED, verdict)
            return [LineEvent(EventKind.UNIT_REJECTED, ref)]
        self.counters.missed_rejects += 1
        self._record(ref, GateOutcome.REJECT_MISSED, verdict)
        return [LineEvent(EventKind.REJECT_MISSED, ref), *self._pack(ref)]

    def _record(self, ref: int, gate: GateOutcome, verdict: _Verdict | None) -> None:
        self.outcomes[ref] = UnitOutcome(
            ref=ref,
            gate=gate,
            verdict=None if verdict is None else verdict.accept,
            verdict_at=None if verdict is None else verdict.at,
            verdict_margin=None if verdict is None else verdict.margin,
        )

    def _pack(self, ref: int) -> list[LineEvent]:
        c = self.counters
        c.good += 1
        c.units_in_case += 1
        self._open_case.append(ref)
        events = [LineEvent(EventKind.UNIT_PASSED, ref)]
        if c.units_in_case >= self.config.units_per_case:
            events += self.close_case()
        return events

    def close_case(self) -> list[LineEvent]:
        """Close the case being filled, full or not, and stack it; nothing when it is empty."""
        if not self._open_case:
            return []
        c = self.counters
        c.units_in_case = 0
        c.cases += 1
        self.cases[c.cases] = tuple(self._open_case)
        self._open_case.clear()
        c.cases_on_pallet += 1
        self._open_pallet.append(c.cases)
        events = [LineEvent(EventKind.CASE_COMPLETE, c.cases)]
        if c.cases_on_pallet >= self.config.cases_per_pallet:
            c.cases_on_pallet = 0
            c.pallets += 1
            self.pallets[c.pallets] = tuple(self._open_pallet)
            self._open_pallet.clear()
            events.append(LineEvent(EventKind.PALLET_COMPLETE, c.pallets))
        return events

    def pallet_of(self, case: int) -> int | None:
        """The pallet case `case` is stacked on; None while its pallet is open."""
        return next((n for n, cases in self.pallets.items() if case in cases), None)


def unit_outcome_code(line: Line, ref: int) -> OutcomeCode:
    outcome = line.outcomes.get(ref)
    if outcome is None:
        return OutcomeCode.PENDING
    return OutcomeCode[outcome.gate.name]
