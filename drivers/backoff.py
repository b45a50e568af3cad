"""Capped exponential backoff with full jitter, for reconnect loops."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delays of `initial`, 2×, 4×… up to `cap` seconds, each drawn uniformly in [d/2, d].

    Half-jitter keeps reconnects of many devices apart without ever waiting longer than the cap
    (the device issue asks for a peer to be used again within 5 s of its return).
    """

    initial: float = 0.2
    cap: float = 5.0
    factor: float = 2.0
    _attempt: int = field(default=0, init=False)
    _random: random.Random = field(default_factory=random.Random, init=False, repr=False)

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.initial * self.factor**self._attempt)
        self._attempt += 1
        return self._random.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self._attempt = 0
