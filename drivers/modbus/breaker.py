"""Per-slave circuit breaker: a slave that keeps timing out is skipped for a while.

On an RS-485 bus one request is in flight at a time, so a dead slave costs a full timeout per
request and starves every other slave. After `failures` consecutive timeouts the slave is
skipped for `skip_s`; then one trial request decides whether it is back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _SlaveRecord:
    failures: int = 0
    open_until: float | None = None


class SlaveBreakers:
    def __init__(
        self, *, failures: int, skip_s: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._threshold = failures
        self._skip_s = skip_s
        self._monotonic = monotonic
        self._slaves: dict[int, _SlaveRecord] = {}

    def allows(self, slave: int) -> bool:
        record = self._slaves.get(slave)
        if record is None or record.open_until is None:
            return True
        return self._monotonic() >= record.open_until

    def success(self, slave: int) -> None:
        self._slaves.pop(slave, None)

    def failure(self, slave: int) -> None:
        record = self._slaves.setdefault(slave, _SlaveRecord())
        record.failures += 1
        if record.failures >= self._threshold:
            record.open_until = self._monotonic() + self._skip_s

    def skipped(self) -> list[int]:
        """Slaves currently written off (open, or waiting for their trial request)."""
        return sorted(s for s, r in self._slaves.items() if r.open_until is not None)

    def reset(self) -> None:
        self._slaves.clear()
