"""The operator picks the packaging order the line runs next: an order of this line whose batch
is made and not yet done. The pick is audited; with a `LineHost` the order's batch is then
opened on the line, ready for clearance."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from ebr.audit.trail import AuditEvent, AuditTrail
from ebr.catalog import batch_info
from ebr.errors import NotFoundError
from ebr.orders import OrderBook, PackagingOrder
from ebr.users import Session
from gateway.hmi.console import LineConsole
from gateway.line.supervisor import LineActionError

DONE_PHASES: Final = frozenset({"reconciled", "released", "rejected"})
"""Batch phases after which an order is done: the line has nothing left to pack for it."""

BatchOpener = Callable[[PackagingOrder], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class OpenOrder:
    order: PackagingOrder
    phase: str


class OrderPicker:
    def __init__(
        self,
        book: OrderBook,
        audit: AuditTrail,
        line_id: str,
        *,
        open_batch: BatchOpener | None = None,
    ) -> None:
        """`open_batch` opens the picked order's batch on the line (`LineHost.open_batch`);
        without it the pick is recorded and the line runs whatever batch the gateway runs."""
        self.book = book
        self.audit = audit
        self.line_id = line_id
        self.open_batch = open_batch
        self.picked: PackagingOrder | None = None

    def open_orders(self) -> list[OpenOrder]:
        """This line's orders with a batch that is not done, oldest first."""
        found = []
        for order in reversed(self.book.orders()):
            if order.line_id != self.line_id or order.batch_id is None:
                continue
            batch = batch_info(self.audit.engine, order.batch_id)
            if batch is not None and batch.status not in DONE_PHASES:
                found.append(OpenOrder(order, batch.status))
        return found

    async def pick(self, console: LineConsole, session: Session, number: str) -> PackagingOrder:
        order = await asyncio.to_thread(self._pickable, number.strip())
        runtime = console.runtime
        if runtime is not None and runtime.batch_id != order.batch_id and runtime.final is None:
            raise LineActionError(
                f"batch {runtime.batch_id} is still on the line",
                hint="stop and complete it first, then pick the next order",
            )
        await asyncio.to_thread(self._record, order, session)
        self.picked = order
        if self.open_batch is not None and (runtime is None or runtime.batch_id != order.batch_id):
            await self.open_batch(order)
        console.changed()
        return order

    def _pickable(self, number: str) -> PackagingOrder:
        if not number:
            raise LineActionError("no order chosen", hint="tap an order in the list")
        try:
            order = self.book.order(number)
        except NotFoundError:
            raise LineActionError(
                f"there is no packaging order {number!r}", hint="pick an order from the list"
            ) from None
        if order.line_id != self.line_id:
            raise LineActionError(
                f"order {number} is for line {order.line_id}, not this line ({self.line_id})",
                hint="pick an order of this line",
            )
        if order.batch_id is None:
            raise LineActionError(
                f"order {number} is {order.status.replace('_', ' ')}: it has no batch yet",
                hint="a supervisor must sign the order first",
            )
        batch = batch_info(self.audit.engine, order.batch_id)
        if batch is None or batch.status in DONE_PHASES:
            state = batch.status if batch is not None else "missing"
            raise LineActionError(
                f"the batch of order {number} is {state}", hint="pick an order not yet packed"
            )
        return order

    def _record(self, order: PackagingOrder, session: Session) -> None:
        self.audit.append(
            [
                AuditEvent(
                    "order_picked",
                    "packaging_order",
                    order.number,
                    action="access",
                    new={"line": self.line_id, "batch": order.batch_id},
                    user_id=session.user_id,
                    username=session.username,
                )
            ]
        )
