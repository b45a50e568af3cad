"""How late the event loop wakes up: a stalled loop makes verdicts late and units rejected.

The probe sleeps `interval_s` again and again and measures how much later than asked it woke.
It reports a stall once, after `consecutive` late samples in a row (one garbage-collection pause
is not an alarm), and the recovery once, at the first sample back under the threshold.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class LoopLagStats:
    samples: int
    last_s: float
    max_s: float
    p99_s: float
    lagging: bool


class LoopLagProbe:
    def __init__(
        self,
        interval_s: float = 0.05,
        threshold_s: float = 0.1,
        on_lag: Callable[[float], object] | None = None,
        on_recover: Callable[[float], object] | None = None,
        *,
        window: int = 1200,
        consecutive: int = 2,
    ) -> None:
        if interval_s <= 0 or threshold_s <= 0 or window < 1 or consecutive < 1:
            raise ValueError(
                "interval_s and threshold_s must be positive, window and consecutive at least 1"
            )
        self.interval_s = interval_s
        self.threshold_s = threshold_s
        self._on_lag = on_lag
        self._on_recover = on_recover
        self._consecutive = consecutive
        self._window: deque[float] = deque(maxlen=window)
        self._late_in_a_row = 0
        self._lagging = False

    async def run(self) -> None:
        """Measure until cancelled (run it as a task of the gateway's TaskGroup)."""
        loop = asyncio.get_running_loop()
        while True:
            asked = loop.time()
            await asyncio.sleep(self.interval_s)
            self.record(max(0.0, loop.time() - asked - self.interval_s))

    def record(self, lag_s: float) -> None:
        """Take one sample; calls `on_lag` / `on_recover` when the verdict changes."""
        self._window.append(lag_s)
        if lag_s > self.threshold_s:
            self._late_in_a_row += 1
            if not self._lagging and self._late_in_a_row >= self._consecutive:
                self._lagging = True
                if self._on_lag is not None:
                    self._on_lag(lag_s)
            return
        self._late_in_a_row = 0
        if self._lagging:
            self._lagging = False
            if self._on_recover is not None:
                self._on_recover(lag_s)

    def stats(self) -> LoopLagStats:
        """Last, maximum and 99th percentile lag over the rolling window (nearest rank)."""
        if not self._window:
            return LoopLagStats(0, 0.0, 0.0, 0.0, self._lagging)
        ordered = sorted(self._window)
        rank = max(1, math.ceil(0.99 * len(ordered)))
        return LoopLagStats(
            len(ordered), self._window[-1], ordered[-1], ordered[rank - 1], self._lagging
        )
