"""Which code belongs to which unit, and which codes the site has already commissioned.

Both answer in O(1) from memory. The commissioned set is filled from the store at start-up
through `preload` (any iterable of keys: the store lives in `ebr`, which drivers never import).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from serialization.coding import IssuedCode


class CommissionedCodes:
    """Keys of codes already accepted on the site, with the unit each was accepted on.

    Kept for the whole batch, one entry a unit: a unit reference that is a number (the line's
    own) is kept as an int, 28 bytes where its text took 50-odd."""

    def __init__(self) -> None:
        self._owner: dict[str, int | str | None] = {}

    def preload(self, keys: Iterable[str]) -> int:
        before = len(self._owner)
        for key in keys:
            self._owner.setdefault(key, None)
        return len(self._owner) - before

    def owner(self, key: str) -> str | None:
        """The unit the key was accepted on ('' if known from the store without a unit)."""
        if key not in self._owner:
            return None
        owner = self._owner[key]
        return "" if owner is None else str(owner)

    def __contains__(self, key: object) -> bool:
        return key in self._owner

    def __len__(self) -> int:
        return len(self._owner)

    def add(self, key: str, unit_ref: str) -> None:
        compact = unit_ref.isdecimal() and str(int(unit_ref)) == unit_ref
        self._owner[key] = int(unit_ref) if compact else unit_ref


class Assignments:
    """The code each recent unit was printed with; bounded, oldest forgotten first.

    A unit's code is looked up until its image is verified, well under a second, or until the
    verdict deadline rejects it; 1,024 units is 100 s at 600 units/min and 30 s at 2,000.
    (65,536 kept every code of the first two hours of a batch in memory; 4,096, half a
    kilobyte each, still took the first seven minutes of a soak to fill.) Duplicates over the
    whole batch are `CommissionedCodes`'s business."""

    def __init__(self, capacity: int = 1_024) -> None:
        if capacity < 1:
            raise ValueError(f"assignment capacity {capacity} must be at least 1")
        self.capacity = capacity
        self._by_unit: OrderedDict[str, IssuedCode] = OrderedDict()
        self._unit_by_key: dict[str, str] = {}

    def assign(self, unit_ref: str, code: IssuedCode) -> None:
        previous = self._by_unit.pop(unit_ref, None)
        if previous is not None:
            self._unit_by_key.pop(previous.key, None)
        self._by_unit[unit_ref] = code
        self._unit_by_key[code.key] = unit_ref
        while len(self._by_unit) > self.capacity:
            _, dropped = self._by_unit.popitem(last=False)
            if self._unit_by_key.get(dropped.key) is not None:
                self._unit_by_key.pop(dropped.key, None)

    def code_of(self, unit_ref: str) -> IssuedCode | None:
        return self._by_unit.get(unit_ref)

    def unit_of(self, key: str) -> str | None:
        return self._unit_by_key.get(key)
