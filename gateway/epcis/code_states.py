"""What the EPCIS mapper remembers of each code of a batch, in one small integer a code.

The mapper runs for the whole batch (tens of thousands of units) inside the gateway: a code's
packaging level and whether it was printed, commissioned or ended were four tables (the level
map with its own copy of every key from the store, and three sets). Here they are one dict,
key → bits, which is also the batch record's `levels` mapping (`ebr.batch_record.BatchRecord`),
so a code allocated to the batch costs one entry.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from enum import IntFlag

from serialization.rules import PackagingLevel

_LEVELS = tuple(PackagingLevel)
_LEVEL_MASK = 0b111
_NO_LEVEL = _LEVEL_MASK
"""A code the journal names that was not allocated to the batch (the export refuses it)."""


class Seen(IntFlag):
    PRINTED = 1 << 3
    COMMISSIONED = 1 << 4
    ENDED = 1 << 5


_SEEN = Seen.PRINTED | Seen.COMMISSIONED | Seen.ENDED


class CodeStates(Mapping[str, PackagingLevel]):
    """A batch's codes: as a mapping, each allocated code's level; and what was seen of each."""

    __slots__ = ("_bits",)

    def __init__(self, levels: Mapping[str, PackagingLevel] = {}) -> None:
        self._bits: dict[str, int] = {}
        for key, level in levels.items():
            self.allocate(key, level)

    def allocate(self, key: str, level: PackagingLevel) -> None:
        bits = self._bits.get(key, _NO_LEVEL)
        self._bits[key] = (bits & ~_LEVEL_MASK) | _LEVELS.index(level)

    def mark(self, key: str, seen: Seen) -> None:
        """Record `seen` of `key`. The first mark keeps the caller's string for the key: the
        line's own, which its other indexes share, where the store's copy loaded with the
        allocation would be a second string a code for the whole batch."""
        bits = self._bits.get(key, _NO_LEVEL)
        if not bits & _SEEN:
            self._bits.pop(key, None)
        self._bits[key] = bits | seen

    def has(self, key: str, seen: Seen) -> bool:
        return bool(self._bits.get(key, 0) & seen)

    def printed(self, key: str) -> bool:
        return self.has(key, Seen.PRINTED)

    def commissioned(self, key: str) -> bool:
        return self.has(key, Seen.COMMISSIONED)

    def ended(self, key: str) -> bool:
        return self.has(key, Seen.ENDED)

    def __getitem__(self, key: str) -> PackagingLevel:
        level = self._bits[key] & _LEVEL_MASK
        if level == _NO_LEVEL:
            raise KeyError(key)
        return _LEVELS[level]

    def __contains__(self, key: object) -> bool:
        bits = self._bits.get(key) if isinstance(key, str) else None
        return bits is not None and bits & _LEVEL_MASK != _NO_LEVEL

    def __iter__(self) -> Iterator[str]:
        return (key for key, bits in self._bits.items() if bits & _LEVEL_MASK != _NO_LEVEL)

    def __len__(self) -> int:
        return sum(1 for _ in self)
