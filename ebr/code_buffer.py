"""Codes allocated ahead for one line and batch, refilled at a low-water mark.

Every code in the buffer is already durable as Allocated, so the line can take the next code
without waiting for the database. When fewer than `low_water` remain, one allocation tops the
buffer up to `size`. If the gateway dies, what the buffer held is still Allocated to the line
and is resolved by `CodeStates.reconcile_after_restart`.
"""

from __future__ import annotations

from collections import deque

from ebr.allocation import AllocatedCode, CodeAllocator
from ebr.code_states import CodeStates
from ebr.errors import AllocationError
from serialization.rules import PackagingLevel


class CodeBuffer:
    def __init__(
        self,
        allocator: CodeAllocator,
        states: CodeStates,
        *,
        line_id: str,
        batch_id: int,
        size: int,
        low_water: int,
        level: PackagingLevel = PackagingLevel.UNIT,
    ) -> None:
        if not 0 <= low_water < size:
            raise AllocationError(
                f"code buffer low water {low_water} must be at least 0 and below its size {size}",
                hint="set lines[].code_buffer.low_water below code_buffer.size",
            )
        self._allocator = allocator
        self._states = states
        self._line_id = line_id
        self._batch_id = batch_id
        self._size = size
        self._low_water = low_water
        self._level = level
        self._codes: deque[AllocatedCode] = deque()
        self.refills = 0

    @property
    def remaining(self) -> int:
        return len(self._codes)

    @property
    def needs_refill(self) -> bool:
        return len(self._codes) < self._low_water or not self._codes

    def refill(self) -> int:
        """Top the buffer up to its size in one allocation; returns how many codes came."""
        wanted = self._size - len(self._codes)
        if wanted <= 0:
            return 0
        codes = self._allocator.allocate(self._line_id, self._batch_id, wanted, level=self._level)
        self._codes.extend(codes)
        self.refills += 1
        return len(codes)

    def take(self) -> AllocatedCode:
        """The next code, refilling first when the buffer is at or below its low-water mark."""
        if self.needs_refill:
            self.refill()
        return self._codes.popleft()

    def release(self, *, reason: str) -> list[str]:
        """Return every code still in the buffer to the pool's owner (never allocated again)."""
        keys = [code.key for code in self._codes]
        if keys:
            self._states.return_unused(keys, reason=reason)
        self._codes.clear()
        return keys
