"""One dispatcher per destination: reads the destination's outbox in order, hands pages to its
uplink, deletes what the receiver acknowledged, quarantines what it refused.

A passing failure (connection refused or dropped, a 5xx answer, a broker gone) sends nothing
new: the uplink is closed and opened again after a capped exponential backoff with jitter,
and the same messages are sent again (receivers deduplicate by eventID). A message the
receiver refuses as such is quarantined: kept, shown by an alarm, not retried until a person
releases it; the later messages of its batch wait behind it, so each batch stays in order,
while other batches go on.

The outbox's work runs beside the network's: while a full page is on its way, one thread
deletes the page delivered before it and reads the page after it. That page read ahead is
thrown away when anything could have put a message before it (a failure, a refusal, a change
of the quarantined batches such as a release), and the outbox is read from its start again;
a page that is not full is followed by a read from the start too, so a message that committed
late goes out at the latest when the backlog is gone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError

from drivers.backoff import Backoff
from drivers.base import DeviceHealth, LinkState
from drivers.health import HealthTracker
from ebr.outbox import Outbox, OutboxMessage
from gateway.uplink.uplinks import Uplink, UplinkUnavailableError

log = logging.getLogger("tracegate.uplink")

BLOCKED_REFRESH_S = 5.0
"""How often the quarantined batches are read again (a release from another process)."""


@dataclass
class DispatcherStats:
    delivered: int = 0
    quarantined: int = 0
    resent_pages: int = 0
    last_delivery: float | None = None
    down_since: float | None = None


@dataclass
class DispatcherSettings:
    page: int = 500
    idle_s: float = 0.2
    """How long to wait when the outbox is empty before looking again."""
    backoff: Backoff = field(default_factory=lambda: Backoff(initial=0.5, cap=30.0))


class Dispatcher:
    def __init__(
        self,
        outbox: Outbox,
        uplink: Uplink,
        *,
        settings: DispatcherSettings | None = None,
        on_quarantine: Callable[[OutboxMessage, str], object] | None = None,
    ) -> None:
        self.outbox = outbox
        self.uplink = uplink
        self.destination = uplink.name
        self.settings = settings or DispatcherSettings()
        self.stats = DispatcherStats()
        self.health_tracker = HealthTracker(uplink.name, f"uplink {uplink.kind}")
        self._on_quarantine = on_quarantine
        self._blocked: set[int] = set()
        self._blocked_read = 0.0
        self._open = False
        self._delivered: list[OutboxMessage] = []
        """Acknowledged by the receiver, deleted from the outbox by the next outbox job."""
        self._job: asyncio.Task[list[OutboxMessage]] | None = None
        """The outbox job under way (`_start_job`)."""
        self._stale = False
        """Something may have put a message before the page read ahead."""

    def health(self) -> DeviceHealth:
        return self.health_tracker.snapshot(
            {"delivered": str(self.stats.delivered), "blocked_batches": str(len(self._blocked))}
        )

    async def run(self) -> None:
        """Deliver until cancelled."""
        try:
            while True:
                try:
                    delivered = await self.step()
                except SQLAlchemyError as error:
                    log.warning("uplink %s: the outbox cannot be read: %s", self.destination, error)
                    await asyncio.sleep(self.settings.backoff.next_delay())
                    continue
                if not delivered:
                    await asyncio.sleep(self.settings.idle_s)
        finally:
            try:
                await self._settle()
            except SQLAlchemyError as error:
                log.warning(
                    "uplink %s: delivered messages stay in the outbox and are sent again: %s",
                    self.destination,
                    error,
                )
            finally:
                await self._close()

    async def step(self) -> bool:
        """One page: True when messages were delivered or refused, False when idle or down
        (after waiting out the backoff). A destination that failed stays down until a
        delivery goes through. What the page delivered is deleted from the outbox by the next
        step (or when `run` ends)."""
        if not self._open and not await self._connect():
            return False
        deleted, page = await self._next_page()
        if not page:
            return deleted
        if len(page) == self.settings.page:
            self._start_job(read_after=page[-1].id)
        try:
            delivery = await self.uplink.send(page)
        except UplinkUnavailableError as error:
            await self._settle(error.acked)
            self.stats.resent_pages += 1
            await self._down(error)
            return False
        if delivery.refused:
            await self._settle(delivery.acked)
            for message, reason in delivery.refused:
                await asyncio.to_thread(self.outbox.quarantine, message, reason)
                self._blocked.add(message.batch_id)
                self.stats.quarantined += 1
                if self._on_quarantine is not None:
                    self._on_quarantine(message, reason)
        else:
            self._delivered.extend(delivery.acked)
        if delivery.acked:
            self.health_tracker.good_value()
        self.settings.backoff.reset()
        self._up()
        return bool(delivery.acked or delivery.refused)

    async def release(self, *, batch_id: int | None = None) -> int:
        """Send the destination's quarantined messages again (all, or one batch's)."""
        released = await asyncio.to_thread(self.outbox.release, self.destination, batch_id=batch_id)
        self._blocked_read = 0.0
        return released

    async def _connect(self) -> bool:
        try:
            await self.uplink.open()
        except UplinkUnavailableError as error:
            await self._down(error)
            return False
        self._open = True
        if self.stats.down_since is None:
            self.health_tracker.set_state(LinkState.UP)
        return True

    def _up(self) -> None:
        """A delivery went through: the destination is up (again)."""
        if self.stats.down_since is not None:
            log.info(
                "uplink %s is back after %.1f s",
                self.destination,
                time.monotonic() - self.stats.down_since,
            )
        self.stats.down_since = None
        self.health_tracker.set_state(LinkState.UP)

    async def _down(self, error: UplinkUnavailableError) -> None:
        self.health_tracker.error(error)
        self.health_tracker.set_state(LinkState.DOWN, reason=str(error))
        if self.stats.down_since is None:
            self.stats.down_since = time.monotonic()
        await self._close()
        await asyncio.sleep(self.settings.backoff.next_delay())

    async def _close(self) -> None:
        if self._open:
            self._open = False
            try:
                await self.uplink.close()
            except UplinkUnavailableError as error:
                log.debug("uplink %s: closing: %s", self.destination, error)

    async def _next_page(self) -> tuple[bool, list[OutboxMessage]]:
        """Whether delivered messages were deleted, and the page to send now: the one read
        ahead if nothing made it stale, otherwise the outbox's first page (read after deleting
        what was delivered)."""
        page = await self._job_done()
        if await self._refresh_blocked():
            self._stale = True
        if page and not self._stale:
            return False, page
        self._stale = False
        deleting = bool(self._delivered)
        self._start_job(read_after=0)
        return deleting, await self._job_done()

    def _start_job(self, *, read_after: int | None) -> None:
        """Delete what was delivered, then read the page after message `read_after` (0: the
        first page; None: read nothing), on one thread: on SQLite both take the write lock,
        so two jobs at once would only queue."""
        self._job = asyncio.create_task(
            asyncio.to_thread(
                self._ack_and_read,
                self._take_delivered(),
                frozenset(self._blocked),
                read_after,
            )
        )

    async def _job_done(self) -> list[OutboxMessage]:
        """The page the outbox job under way read ([] when none is under way). A cancelled
        caller leaves the job under way, for `_settle` to wait for."""
        job = self._job
        if job is None:
            return []
        try:
            return await asyncio.shield(job)
        finally:
            if job.done():
                self._job = None

    def _take_delivered(self) -> list[OutboxMessage]:
        delivered, self._delivered = self._delivered, []
        return delivered

    async def _settle(self, acked: Sequence[OutboxMessage] = ()) -> None:
        """Before the next page is chosen from the outbox's start again, and when `run` ends:
        wait for the outbox job under way (its page is stale) and delete all delivered."""
        self._stale = True
        try:
            await self._job_done()
        except SQLAlchemyError as error:
            log.warning("uplink %s: the outbox job failed: %s", self.destination, error)
        self._delivered.extend(acked)
        if self._delivered:
            self._start_job(read_after=None)
            await self._job_done()

    def _ack_and_read(
        self, delivered: Sequence[OutboxMessage], blocked: frozenset[int], read_after: int | None
    ) -> list[OutboxMessage]:
        if delivered:
            self._ack_and_count(delivered)
        if read_after is None:
            return []
        return self.outbox.pending(
            self.destination, limit=self.settings.page, blocked_batches=blocked, after_id=read_after
        )

    def _ack_and_count(self, messages: Sequence[OutboxMessage]) -> None:
        """Counted where the acknowledgement commits, so the counters match the outbox even
        when the dispatcher is cancelled while the commit runs."""
        self.outbox.ack(messages)
        self.stats.delivered += len(messages)
        self.stats.last_delivery = time.monotonic()

    async def _refresh_blocked(self) -> bool:
        """Read the quarantined batches again when it is time; True when they changed."""
        now = time.monotonic()
        if now - self._blocked_read < BLOCKED_REFRESH_S:
            return False
        blocked = await asyncio.to_thread(self.outbox.blocked_batches, self.destination)
        self._blocked_read = now
        changed = blocked != self._blocked
        self._blocked = blocked
        return changed
