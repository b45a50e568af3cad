"""Where each of the batch's codes is right now, as the runtime knows it, and verdict latency.

The live reconciliation compares this with the store every second
(`serialization.reconciliation`); the sets hold keys, so drift names codes.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

from serialization.reconciliation import LineLedger


@dataclass
class CodeLedger:
    issued: set[str] = field(default_factory=set)
    accepted: set[str] = field(default_factory=set)
    rejected: set[str] = field(default_factory=set)
    sampled: set[str] = field(default_factory=set)
    destroyed: set[str] = field(default_factory=set)

    def issue(self, key: str) -> None:
        self.issued.add(key)

    def accept(self, key: str) -> None:
        self.accepted.add(key)

    def reject(self, key: str) -> None:
        """Rejected, also when an accepted unit's verdict was revoked at the gate."""
        self.accepted.discard(key)
        self.rejected.add(key)

    def sample(self, key: str) -> None:
        self.accepted.discard(key)
        self.sampled.add(key)

    def destroy(self, key: str) -> None:
        self.accepted.discard(key)
        self.sampled.discard(key)
        self.destroyed.add(key)

    @property
    def in_flight(self) -> set[str]:
        return self.issued - self.accepted - self.rejected - self.sampled - self.destroyed

    def snapshot(self, *, allocated: frozenset[str], buffered: frozenset[str]) -> LineLedger:
        return LineLedger(
            allocated=allocated,
            buffered=buffered,
            issued=frozenset(self.issued),
            accepted=frozenset(self.accepted),
            rejected=frozenset(self.rejected),
            sampled=frozenset(self.sampled),
            destroyed=frozenset(self.destroyed),
            in_flight=frozenset(self.in_flight),
        )


class LatencyRecorder:
    """Trigger → verdict times of the most recent units (bounded). A ring of doubles: 8 bytes
    a unit, where a deque of floats took about 32 and an object each."""

    def __init__(self, capacity: int = 200_000) -> None:
        if capacity < 1:
            raise ValueError(f"latency capacity {capacity} must be at least 1")
        self._capacity = capacity
        self._ms = array("d")
        self._next = 0

    def record(self, ms: float) -> None:
        if len(self._ms) < self._capacity:
            self._ms.append(ms)
        else:
            self._ms[self._next] = ms
        self._next = (self._next + 1) % self._capacity

    def __len__(self) -> int:
        return len(self._ms)

    def percentiles(self) -> dict[str, float | None]:
        ordered = sorted(self._ms)

        def at(fraction: float) -> float | None:
            if not ordered:
                return None
            index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
            return round(ordered[index], 3)

        return {
            "p50": at(0.5),
            "p99": at(0.99),
            "p999": at(0.999),
            "max": round(ordered[-1], 3) if ordered else None,
            "count": float(len(ordered)),
        }
