"""The line as the HMI's operator runs it batch after batch: the picked order's batch opened
on the line (`operated_line`) with the console attached, the previous batch, once completed,
closed first."""

from __future__ import annotations

import asyncio
import contextlib

from config.sections import LineConfig
from ebr.orders import PackagingOrder
from gateway.hmi.console import LineConsole
from gateway.hmi.operated import operated_line
from gateway.line.ebr_clearance import ClearanceVerifier
from gateway.line.supervisor import LineActionError
from gateway.site_store import SiteStore


class LineHost:
    """Each batch runs in a task of its own, so its contexts open and close in one task
    whatever request picked it."""

    def __init__(
        self,
        store: SiteStore,
        line: LineConfig,
        console: LineConsole,
        *,
        verifier: ClearanceVerifier | None = None,
    ) -> None:
        self.store = store
        self.line = line
        self.console = console
        self.verifier = verifier
        self._task: asyncio.Task[None] | None = None
        self._done: asyncio.Event | None = None

    async def open_batch(self, order: PackagingOrder) -> None:
        """Open `order`'s batch on the line; refused while an unfinished batch runs."""
        if order.batch_id is None:
            raise LineActionError(f"order {order.number} has no batch", hint="pick another order")
        runtime = self.console.runtime
        if runtime is not None and runtime.final is None:
            raise LineActionError(
                f"batch {runtime.batch_id} is still on the line",
                hint="stop and complete it first",
            )
        await self.close()
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._done = asyncio.Event()
        self._task = asyncio.create_task(
            self._run(order.batch_id, ready, self._done), name=f"batch-{order.batch_id}"
        )
        await ready

    async def _run(self, batch_id: int, ready: asyncio.Future[None], done: asyncio.Event) -> None:
        try:
            async with operated_line(
                self.store, self.line, batch_id, self.console, verifier=self.verifier
            ):
                ready.set_result(None)
                await done.wait()
        except Exception as error:
            if not ready.done():
                ready.set_exception(error)
                return
            raise

    async def close(self) -> None:
        task, done = self._task, self._done
        self._task = self._done = None
        if task is not None and done is not None:
            done.set()
            with contextlib.suppress(Exception):
                await task

    async def __aenter__(self) -> LineHost:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
