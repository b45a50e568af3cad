"""Group commit: one asyncio task gathers events and writes them in one transaction.

The writer waits `window_s` after the first queued event (or until `max_events` are queued),
then runs `Journal.append_many` in a worker thread, so the event loop never waits on fsync.
A submitter's future resolves only once its event is committed, which is when it is durable.

A `lazy` event (nobody waits for it: a unit issued to the printer, a reject the PLC makes
anyway) waits up to `lazy_window_s` for an urgent one and rides in its commit: at line speed
that halves the commits, and with them the work competing with the verdict path. After a
crash a lost lazy event changes nothing the restart does not settle (the code is voided).
"""

from __future__ import annotations

import asyncio
import contextlib

from ebr.journal.events import JournalClosedError, JournalEntry, JournalEvent
from ebr.journal.store import Journal

_Item = tuple[JournalEvent, "asyncio.Future[JournalEntry]", bool]
"""(event, future, lazy)."""


class JournalWriter:
    """One asyncio task group-committing: gathers events for `window_s` (or up to `max_events`)
    and runs Journal.append_many in a worker thread, so the event loop never waits on fsync."""

    def __init__(
        self,
        journal: Journal,
        *,
        window_s: float = 0.002,
        max_events: int = 1000,
        lazy_window_s: float = 0.05,
    ) -> None:
        if window_s < 0 or max_events < 1:
            raise ValueError(
                f"window_s must be >= 0 and max_events >= 1, not {window_s} and {max_events}"
            )
        self._journal = journal
        self._window_s = window_s
        self._max_events = max_events
        self._lazy_window_s = lazy_window_s
        self._urgent = asyncio.Event()
        self._urgent_queued = 0
        self._queue: asyncio.Queue[_Item | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._pending = 0
        self.commits = 0
        self.events_written = 0

    @property
    def pending(self) -> int:
        """Events submitted and not yet committed or refused."""
        return self._pending

    async def start(self) -> None:
        if self._task is not None:
            raise JournalClosedError("the journal writer is already started", hint="start it once")
        self._task = asyncio.create_task(self._run(), name="journal-writer")

    async def close(self) -> None:
        """Write what is queued, then stop."""
        if self._task is None or self._closing:
            return
        self._closing = True
        self._urgent.set()
        self._queue.put_nowait(None)
        await self._task

    def submit(self, event: JournalEvent, *, lazy: bool = False) -> asyncio.Future[JournalEntry]:
        """Queue `event`; the future resolves when it is committed, or fails with
        `JournalRejectedError` (illegal event) or the database error (nothing committed).
        A `lazy` event may wait `lazy_window_s` for company before it is written."""
        if self._task is None or self._closing or self._task.done():
            raise JournalClosedError(
                "the journal writer is not running",
                hint="start() it before submitting, and submit nothing after close()",
            )
        future: asyncio.Future[JournalEntry] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((event, future, lazy))
        self._pending += 1
        if not lazy:
            self._urgent_queued += 1
            self._urgent.set()
        return future

    async def append(self, event: JournalEvent) -> JournalEntry:
        return await self.submit(event)

    async def _run(self) -> None:
        try:
            await self._loop()
        finally:
            self._closing = True
            self._fail_queued()

    def _fail_queued(self) -> None:
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is None:
                continue
            self._pending -= 1
            if not item[1].done():
                item[1].set_exception(
                    JournalClosedError(
                        "the journal writer stopped before writing this event",
                        hint="submit it again to a running writer",
                    )
                )

    async def _loop(self) -> None:
        stop = False
        while not stop:
            first = await self._queue.get()
            if first is None:
                return
            group = [self._taken(first)]
            if first[2]:
                await self._wait_for_urgent()
            if self._window_s > 0 and self._queue.qsize() < self._max_events - 1:
                await asyncio.sleep(self._window_s)
            while len(group) < self._max_events and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stop = True
                    break
                group.append(self._taken(item))
            if self._urgent_queued == 0:
                self._urgent.clear()
            await self._commit(group)

    def _taken(self, item: _Item) -> _Item:
        if not item[2]:
            self._urgent_queued -= 1
        return item

    async def _wait_for_urgent(self) -> None:
        if self._urgent.is_set() or self._lazy_window_s <= 0:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._lazy_window_s):
                await self._urgent.wait()

    async def _commit(self, group: list[_Item]) -> None:
        try:
            results = await asyncio.to_thread(
                self._journal.append_many, [event for event, _, _ in group]
            )
        except BaseException as error:
            failure = error if isinstance(error, Exception) else _cancelled()
            for _, future, _ in group:
                if not future.done():
                    future.set_exception(failure)
            if failure is not error:
                raise
            return
        finally:
            self._pending -= len(group)
        self.commits += 1
        for (_, future, _), result in zip(group, results, strict=True):
            if isinstance(result, JournalEntry):
                self.events_written += 1
                if not future.done():
                    future.set_result(result)
            elif not future.done():
                future.set_exception(result)


def _cancelled() -> JournalClosedError:
    return JournalClosedError(
        "the journal writer was cancelled while committing: these events may or may not be written",
        hint="read the batch's journal before submitting them again",
    )
