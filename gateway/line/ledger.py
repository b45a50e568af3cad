"""Where each of the batch's codes is right now, as the runtime knows it, and verdict latency.

The live reconciliation compares this with the store every second
(`serialization.reconciliation`): counts answer whether it balances, the keys name the codes
when it does not.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Set

from serialization.reconciliation import LineLedger

ISSUED = 1
ACCEPTED = 2
REJECTED = 4
SAMPLED = 8
DESTROYED = 16
_PLACES = {
    "issued": ISSUED,
    "accepted": ACCEPTED,
    "rejected": REJECTED,
    "sampled": SAMPLED,
    "destroyed": DESTROYED,
}
_REGULAR = frozenset(
    {ISSUED, ISSUED | ACCEPTED, ISSUED | REJECTED, ISSUED | SAMPLED, ISSUED | DESTROYED}
)
"""Where a code may be: issued and in flight, or issued with exactly one outcome."""


class _Place(Set[str]):
    """The keys of one place (or of in flight: issued, no outcome), read from the ledger's
    one map; a live view, not a copy."""

    def __init__(self, places: dict[str, int], counts: dict[int, int], bit: int) -> None:
        self._places = places
        self._counts = counts
        self._bit = bit

    def _holds(self, flags: int) -> bool:
        return flags == ISSUED if self._bit == 0 else bool(flags & self._bit)

    def __contains__(self, key: object) -> bool:
        flags = self._places.get(key) if isinstance(key, str) else None
        return flags is not None and self._holds(flags)

    def __iter__(self) -> Iterator[str]:
        items = list(self._places.items())
        bit = self._bit
        if bit == 0:
            return (key for key, flags in items if flags == ISSUED)
        return (key for key, flags in items if flags & bit)

    def __len__(self) -> int:
        return self._counts[self._bit]


class CodeLedger:
    """One map, code key → the places it is in (bits), with a count per place kept as codes
    move. The line asks "where is this code" and "how many are accepted" on every unit; the
    live reconciliation asks every second whether the places still partition the issued codes,
    which `balanced` answers from the counts alone (`irregular` counts the codes in a place
    they may not be, e.g. rejected and sampled, or accepted without being issued). Sets of
    keys are built only for `snapshot`, when a drift must name its codes: five sets a
    second, copied each second, kept 100-odd bytes a unit and fragmented the heap."""

    def __init__(self) -> None:
        self._places: dict[str, int] = {}
        self._counts: dict[int, int] = dict.fromkeys((0, *_PLACES.values()), 0)
        self.irregular = 0
        self.issued = _Place(self._places, self._counts, ISSUED)
        self.accepted = _Place(self._places, self._counts, ACCEPTED)
        self.rejected = _Place(self._places, self._counts, REJECTED)
        self.sampled = _Place(self._places, self._counts, SAMPLED)
        self.destroyed = _Place(self._places, self._counts, DESTROYED)
        self.in_flight = _Place(self._places, self._counts, 0)

    def _move(self, key: str, add: int, remove: int = 0) -> None:
        old = self._places.get(key, 0)
        new = (old & ~remove) | add
        if new == old:
            return
        self._places[key] = new
        for bit in _PLACES.values():
            self._counts[bit] += bool(new & bit) - bool(old & bit)
        self._counts[0] += (new == ISSUED) - (old == ISSUED)
        self.irregular += (new not in _REGULAR) - (old not in _REGULAR and old != 0)

    def issue(self, key: str) -> None:
        self._move(key, ISSUED)

    def accept(self, key: str) -> None:
        self._move(key, ACCEPTED)

    def reject(self, key: str) -> None:
        """Rejected, also when an accepted unit's verdict was revoked at the gate."""
        self._move(key, REJECTED, ACCEPTED)

    def sample(self, key: str) -> None:
        self._move(key, SAMPLED, ACCEPTED)

    def destroy(self, key: str) -> None:
        self._move(key, DESTROYED, ACCEPTED | SAMPLED)

    def balanced(self, allocated: int, buffered: int) -> bool:
        """Both equations hold and the places partition: no code irregular, and the store's
        count of live codes is the buffered plus the issued (a code both buffered and issued
        makes the sum one too many)."""
        return self.irregular == 0 and allocated == buffered + len(self.issued)

    def counts(self) -> dict[str, int]:
        return {name: self._counts[bit] for name, bit in _PLACES.items()} | {
            "in_flight": self._counts[0]
        }

    def snapshot(self, *, allocated: frozenset[str], buffered: frozenset[str]) -> LineLedger:
        """The ledger as sets of keys: one pass over the map groups the keys by their bits
        (a handful of combinations), then each place takes the groups that hold its bit."""
        groups: dict[int, list[str]] = {}
        for key, flags in self._places.items():
            group = groups.get(flags)
            if group is None:
                groups[flags] = group = []
            group.append(key)

        def place(bit: int) -> frozenset[str]:
            holds = (lambda f: f == ISSUED) if bit == 0 else (lambda f: bool(f & bit))
            return frozenset(key for f, keys in groups.items() if holds(f) for key in keys)

        return LineLedger(
            allocated=allocated,
            buffered=buffered,
            in_flight=place(0),
            **{name: place(bit) for name, bit in _PLACES.items()},
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
