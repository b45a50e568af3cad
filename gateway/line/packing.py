"""Automatic aggregation: cases from the PLC's case-complete signal, pallets from cases.

In `plc-count` mode the case packer's signal takes the last N accepted units that are not yet
in a case, in the order they passed the gate (`complete`); in `case-camera` mode the case is
recorded with exactly the units its camera read (`pack`, after `case_contents.check_case`).
The container gets its level's code (an SSCC or the product's own scheme) from a buffer
durable as Allocated, like unit codes; with a label printer and camera for the level the
label is printed and verified before the container is recorded. A partial case and pallet
are closed at the end of the batch.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from drivers.camera.vision import VerificationResult
from ebr.allocation import AllocatedCode
from ebr.journal import EventKind, JournalEvent, JournalWriter
from gateway.line.buffer import LineCodeBuffer
from gateway.line.labels import LabelStation

LABEL_ATTEMPTS = 3
RECENT_CONTAINERS = 64

log = logging.getLogger("tracegate.line.packing")


@dataclass
class PackedContainer:
    level: str
    number: int
    code: AllocatedCode
    children: tuple[str, ...]
    partial: bool = False


@dataclass
class PackingCounts:
    cases: int = 0
    partial_cases: int = 0
    pallets: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


class PackingStation:
    """One aggregation level (case or pallet) fed in pass order by the level below."""

    def __init__(
        self,
        *,
        level: str,
        batch_id: int,
        capacity: int,
        buffer: LineCodeBuffer | None,
        journal: JournalWriter,
        on_packed: Callable[[PackedContainer], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        labeller: LabelStation | None = None,
        remember_where_packed: bool = False,
    ) -> None:
        self.level = level
        self.batch_id = batch_id
        self.capacity = capacity
        self.buffer = buffer
        self.journal = journal
        self.on_packed = on_packed
        self.on_error = on_error
        self.labeller = labeller
        self.labels_scrapped = 0
        self.waiting: deque[str] = deque()
        self.packed: deque[PackedContainer] = deque(maxlen=RECENT_CONTAINERS)
        """The containers packed last (the record has them all)."""
        self.packed_in: dict[str, int] | None = {} if remember_where_packed else None
        """Child key → the number of the container it was packed in (this session); kept only
        where asked (the case camera names the case a unit is already in): an entry a unit all
        batch long that nothing else reads."""
        self.counts = PackingCounts()
        self._lock = asyncio.Lock()

    def add(self, key: str) -> None:
        """A child (accepted unit, or packed case) on its way into the next container."""
        self.waiting.append(key)

    def withdraw(self, key: str) -> bool:
        """A child no longer available (rejected at the gate, sampled); True if it was waiting."""
        try:
            self.waiting.remove(key)
        except ValueError:
            return False
        return True

    async def complete(self, number: int, *, partial: bool = False) -> PackedContainer | None:
        """The container is full (or the batch ends): record it with the children waiting
        longest, as many as it holds."""
        async with self._lock:
            take = len(self.waiting) if partial else min(self.capacity, len(self.waiting))
            if take == 0:
                return None
            code = await self._code(number, take)
            if code is None:
                return None
            children = tuple(self.waiting.popleft() for _ in range(min(take, len(self.waiting))))
            if not children:
                self._fail(f"{self.level} {number}: its children left while it was labelled")
                return None
            container = await self._record(number, code, children, partial=partial)
            if container is None:
                self.waiting.extendleft(reversed(children))
            return container

    async def pack(self, number: int, children: Sequence[str]) -> PackedContainer | None:
        """Record the container with exactly `children` (read in it); they leave the waiting
        line whether it is recorded or not: they are in that container."""
        async with self._lock:
            for key in children:
                self.withdraw(key)
            if not children:
                return None
            code = await self._code(number, len(children))
            if code is None:
                return None
            return await self._record(number, code, tuple(children), partial=False)

    async def _code(self, number: int, children: int) -> AllocatedCode | None:
        """The container's code, its label printed and verified when the level has a label
        station."""
        if self.buffer is None:
            self._fail(f"no {self.level} coding rule: {children} children stay unpacked")
            return None
        code = await self._labelled(number) if self.labeller else self.buffer.take()
        if code is None:
            self._fail(f"no {self.level} code for {self.level} {number}: {children} children "
                       "stay unpacked")  # fmt: skip
        return code

    async def _record(
        self, number: int, code: AllocatedCode, children: tuple[str, ...], *, partial: bool
    ) -> PackedContainer | None:
        partial = partial or len(children) < self.capacity
        try:
            await self.journal.append(
                JournalEvent(
                    self.batch_id,
                    EventKind.AGGREGATED,
                    code_key=code.key,
                    data={
                        "children": list(children),
                        "level": self.level,
                        "number": number,
                        "partial": partial,
                    },
                )
            )
        except Exception as error:
            self._fail(f"{self.level} {number} not recorded: {error}")
            return None
        container = PackedContainer(self.level, number, code, children, partial)
        self.packed.append(container)
        if self.packed_in is not None:
            self.packed_in.update(dict.fromkeys(children, number))
        if self.level == "pallet":
            self.counts.pallets += 1
        elif partial:
            self.counts.partial_cases += 1
        else:
            self.counts.cases += 1
        if self.on_packed is not None:
            self.on_packed(container)
        return container

    async def _labelled(self, number: int) -> AllocatedCode | None:
        """A code whose printed label verified; scrapped labels are journalled as such."""
        assert self.labeller is not None
        assert self.buffer is not None
        for attempt in range(1, LABEL_ATTEMPTS + 1):
            code = self.buffer.take()
            if code is None:
                return None
            ref = f"{self.level}-{number}-{attempt}"
            await self.journal.append(
                JournalEvent(self.batch_id, EventKind.UNIT_ISSUED, unit_ref=ref, code_key=code.key)
            )
            result = await self.labeller.label(ref, code)
            if isinstance(result, VerificationResult) and result.accepted:
                return code
            detail = result if isinstance(result, str) else f"{result.reason}: {result.detail}"
            self.labels_scrapped += 1
            await self.journal.append(
                JournalEvent(
                    self.batch_id,
                    EventKind.UNIT_REJECTED,
                    unit_ref=ref,
                    code_key=code.key,
                    data={"reason": "label_not_verified", "detail": detail},
                )
            )
        self._fail(f"{self.level} {number}: {LABEL_ATTEMPTS} labels in a row did not verify")
        return None

    def _fail(self, message: str) -> None:
        self.counts.failed += 1
        self.counts.errors.append(message)
        log.error("%s", message)
        if self.on_error is not None:
            self.on_error(message)
