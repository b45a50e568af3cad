"""The live reconciliation: every second, the runtime's ledger against the store.

allocated = issued + buffered (+ voided, kept apart), and issued = accepted + rejected +
sampled + destroyed + in flight. Counts are compared first; only when they differ are the
keys read, so the check stays cheap on a long batch, and the alarm names the codes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy import Engine

from ebr.line_codes import batch_code_states
from gateway.line.buffer import LineCodeBuffer
from gateway.line.ledger import CodeLedger
from serialization.reconciliation import Reconciliation, reconcile
from serialization.states import CodeState


class LiveReconciler:
    def __init__(
        self,
        engine: Engine,
        *,
        batch_id: int,
        line_id: str,
        ledger: CodeLedger,
        buffer: LineCodeBuffer,
        on_drift: Callable[[Reconciliation], None],
        on_balanced: Callable[[Reconciliation], None],
    ) -> None:
        self._engine = engine
        self.batch_id = batch_id
        self.line_id = line_id
        self.ledger = ledger
        self.buffer = buffer
        self.on_drift = on_drift
        self.on_balanced = on_balanced
        self.last: Reconciliation | None = None
        self.checks = 0
        self.drifts = 0
        self._suspect = False

    async def check(self) -> Reconciliation | None:
        """One comparison; None when an allocation is under way (its codes are in between)."""
        if self.buffer.allocating:
            return None
        states = await asyncio.to_thread(
            batch_code_states, self._engine, self.batch_id, line_id=self.line_id
        )
        if self.buffer.allocating:
            return None
        allocated = frozenset(k for k, s in states.items() if s is not CodeState.SN_INVALID)
        result = reconcile(self.ledger.snapshot(allocated=allocated, buffered=self.buffer.keys))
        self.checks += 1
        self.last = result
        if result.balanced:
            self._suspect = False
            self.on_balanced(result)
        elif self._suspect:
            self.drifts += 1
            self.on_drift(result)
        else:
            self._suspect = True
        return result
