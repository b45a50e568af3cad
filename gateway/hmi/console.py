"""The line as the HMI sees and drives it: the batch's runtime (when one is attached), the
operator's actions on it, and a signal the live stream waits on.

Every action is the line supervisor's own (journalled, audited against the user); the console
adds nothing to the batch's rules, it only refuses an action when no batch is on the line.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from drivers.base import Frame
from ebr.audit.actor import Actor
from ebr.journal import EventKind, Journal
from ebr.users import Session, Users
from gateway.line.clearance import clearance_signer
from gateway.line.recent_frames import RecentFrames
from gateway.line.runtime import LineRuntime
from gateway.line.supervisor import LineActionError

SPEED_WINDOW_S = 30.0


@dataclass
class LineConsole:
    users: Users
    target_upm: float | None = None
    planned_units: int | None = None
    runtime: LineRuntime | None = None
    last_event_ms: float | None = None
    """Wall-clock time (ms) of the newest line event the live view reports."""
    challenge_result: dict[str, Any] | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _samples: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=600))
    _version: int = 0
    closed: bool = False
    """The HMI is shutting down: live streams end."""
    recent: RecentFrames = field(default_factory=RecentFrames)
    """The attached runtime's last unit camera frames (shown on request)."""

    # --- the line ---------------------------------------------------------------------------

    def attach(self, runtime: LineRuntime) -> None:
        self.runtime = runtime
        self.recent.clear()
        runtime.frame_taps.append(self.recent.add)
        runtime.accept_taps.append(lambda _track: self.line_event())
        runtime.alarms.subscribe(lambda _transition: self.line_event())
        self.line_event()

    @contextlib.contextmanager
    def attached(self, runtime: LineRuntime) -> Iterator[LineRuntime]:
        """The console shows `runtime` while the block runs (`run_batch`'s `on_runtime`)."""
        self.attach(runtime)
        try:
            yield runtime
        finally:
            self.detach()

    def detach(self) -> None:
        self.runtime = None
        self.changed()

    def close(self) -> None:
        self.closed = True
        self.changed()

    def line_event(self) -> None:
        self.last_event_ms = time.time() * 1000
        self.changed()

    def changed(self) -> None:
        self._version += 1
        self._changed.set()

    async def wait_changed(self, version: int, timeout: float) -> int:
        """The version after a change newer than `version`, or the same one after `timeout`."""
        if self._version == version:
            self._changed.clear()
            try:
                async with asyncio.timeout(timeout):
                    await self._changed.wait()
            except TimeoutError:
                pass
        return self._version

    def speed_upm(self, issued: int) -> float | None:
        """Units per minute over the last `SPEED_WINDOW_S` seconds."""
        now = time.monotonic()
        self._samples.append((now, issued))
        while self._samples and self._samples[0][0] < now - SPEED_WINDOW_S:
            self._samples.popleft()
        first_at, first = self._samples[0]
        if now - first_at < 1.0:
            return None
        return (issued - first) * 60.0 / (now - first_at)

    def last_units(self) -> list[UnitImage]:
        """The last units the camera saw, newest first, with the pipeline's verdict so far.
        Call on the runtime's event loop."""
        runtime = self.runtime
        if runtime is None:
            return []
        return [unit_image(frame, runtime) for frame in self.recent.newest_first()]

    def running(self) -> LineRuntime:
        if self.runtime is None:
            raise LineActionError(
                "no batch is on the line", hint="start the line's batch in the gateway first"
            )
        return self.runtime

    # --- the operator's actions -------------------------------------------------------------

    async def clearance(self, session: Session, confirmed: Sequence[str], password: str) -> None:
        runtime = self.running()
        signer = clearance_signer(self.users, runtime.store.audit, session, password)
        try:
            await runtime.supervisor.clearance(actor_of(session), confirmed, signer)
        finally:
            self.changed()

    async def challenge(self, session: Session) -> dict[str, Any] | None:
        runtime = self.running()
        for station in (runtime.cases, runtime.pallets):
            if station.buffer is not None:
                await station.buffer.fill()
        await runtime.buffer.fill()
        try:
            await runtime.challenge(actor_of(session))
        finally:
            self.changed()
        self.challenge_result = await asyncio.to_thread(last_challenge, runtime)
        return self.challenge_result

    async def start(self, session: Session) -> None:
        try:
            await self.running().supervisor.start(actor_of(session))
        finally:
            self.changed()

    async def hold(self, session: Session) -> None:
        try:
            await self.running().supervisor.hold(actor_of(session), "held at the HMI")
        finally:
            self.changed()

    async def stop(self, session: Session) -> None:
        """Stop the line and complete the batch: run out, pack, void unused codes, reconcile."""
        runtime = self.running()
        if runtime.final is not None:
            raise LineActionError("the batch is already completed", hint="nothing to stop")
        try:
            await runtime.finish(actor_of(session))
        finally:
            self.changed()

    def acknowledge(self, session: Session, alarm_id: str, source: str) -> None:
        self.running().alarms.acknowledge(alarm_id, source, session.username)
        self.changed()

    def shelve(
        self, session: Session, alarm_id: str, source: str, duration_s: float, reason: str
    ) -> None:
        """ISA-18.2 shelving: hidden from the banner for `duration_s`, journalled with the
        reason; the alarm manager refuses alarms that stop the line."""
        self.running().alarms.shelve(alarm_id, source, session.username, duration_s, reason)
        self.changed()

    def unshelve(self, session: Session, alarm_id: str, source: str) -> None:
        self.running().alarms.unshelve(alarm_id, source, session.username)
        self.changed()


@dataclass(frozen=True, slots=True)
class UnitImage:
    unit_ref: str
    code: str | None
    """The code's human-readable text; None before the unit got one."""
    verdict: str
    """"accepted", "rejected" or "pending" (not decided yet, or an accept not yet confirmed)."""
    reason: str | None
    taken_at: datetime
    width: int
    height: int


def unit_image(frame: Frame, runtime: LineRuntime) -> UnitImage:
    track = None
    with contextlib.suppress(ValueError):
        track = runtime.pipeline.units.get(int(frame.unit_ref))
    decision = track.decision if track is not None else None
    verdict = decision if decision in ("accepted", "rejected") else "pending"
    return UnitImage(
        frame.unit_ref,
        track.code.hri if track is not None and track.code is not None else None,
        verdict,
        track.reason if track is not None else None,
        frame.taken_at,
        frame.width,
        frame.height,
    )


def actor_of(session: Session) -> Actor:
    return Actor(user_id=session.user_id, username=session.username)


def last_challenge(runtime: LineRuntime) -> dict[str, Any] | None:
    """The batch's latest vision challenge record, as journalled."""
    found = None
    for entry in Journal(runtime.store.engine).entries(runtime.batch_id):
        data = entry.event.data
        if entry.event.kind is EventKind.NOTE and data.get("topic") == "challenge":
            found = data.get("record")
    return found
