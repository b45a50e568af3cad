"""Codes ready for the line, durable as Allocated, refilled in a worker thread.

`take()` never touches the database: the unit pipeline must not wait on a disk. When fewer
than `low_water` codes are left, one allocation tops the buffer up in the background; if the
buffer runs dry anyway, `take()` returns None and the unit is rejected without a code.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

from ebr.allocation import AllocatedCode, CodeAllocator
from serialization.rules import PackagingLevel

log = logging.getLogger("tracegate.line.buffer")


class LineCodeBuffer:
    def __init__(
        self,
        allocator: CodeAllocator,
        *,
        line_id: str,
        batch_id: int,
        size: int,
        low_water: int,
        level: PackagingLevel = PackagingLevel.UNIT,
    ) -> None:
        if not 0 <= low_water < size:
            raise ValueError(f"low water {low_water} must be at least 0 and below size {size}")
        self._allocator = allocator
        self.line_id = line_id
        self.batch_id = batch_id
        self.size = size
        self.low_water = low_water
        self.level = level
        self._codes: deque[AllocatedCode] = deque()
        self._keys: set[str] = set()
        self._refill: asyncio.Task[None] | None = None
        self._allocating = 0
        self.refills = 0
        self.last_error: Exception | None = None

    @property
    def remaining(self) -> int:
        return len(self._codes)

    @property
    def allocating(self) -> bool:
        """An allocation is under way: its codes may be durable but not in the buffer yet."""
        return self._allocating > 0

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(self._keys)

    async def fill(self) -> None:
        """Top up now and wait for it (start of a batch)."""
        await self._top_up()

    def take(self) -> AllocatedCode | None:
        code = self._codes.popleft() if self._codes else None
        if code is not None:
            self._keys.discard(code.key)
        if len(self._codes) < self.low_water and self._refill is None:
            self._refill = asyncio.get_running_loop().create_task(self._top_up())
            self._refill.add_done_callback(self._refilled)
        return code

    def drain(self) -> list[str]:
        """Every key still held (to be voided); the buffer is empty afterwards."""
        keys = [code.key for code in self._codes]
        self._codes.clear()
        self._keys.clear()
        return keys

    async def close(self) -> None:
        if self._refill is not None:
            self._refill.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._refill

    async def _top_up(self) -> None:
        wanted = self.size - len(self._codes)
        if wanted <= 0:
            return
        self._allocating += 1
        try:
            codes = await asyncio.to_thread(
                self._allocator.allocate, self.line_id, self.batch_id, wanted, level=self.level
            )
        finally:
            self._allocating -= 1
        self._codes.extend(codes)
        self._keys.update(code.key for code in codes)
        self.refills += 1

    def _refilled(self, task: asyncio.Task[None]) -> None:
        self._refill = None
        if task.cancelled():
            return
        error = task.exception()
        self.last_error = error if isinstance(error, Exception) else None
        if error is not None:
            log.error("code buffer refill for line %s failed: %s", self.line_id, error)
