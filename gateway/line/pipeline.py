"""The unit pipeline: trigger → code → print → image → verdict → PLC → confirmation → journal.

Every unit ends in exactly one verdict. ACCEPT reaches the PLC only after the unit's record is
durable; anything that goes wrong on the way — a late or missing image, a printer or camera
fault, a record not yet on disk, a PLC that answers LATE — is a reject, and the PLC rejects any
unit it has no ACCEPT for by the time the unit reaches the gate (fail-safe). A rejected unit
must be confirmed by the bin sensor; a missed confirmation stops the line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from drivers.base import DriverError, Frame, LinkState, PixelFormat, Printer, PrintItem, SmartResult
from drivers.camera.vision import BackPressureError, VerificationResult, VisionService
from drivers.line_plc.protocol import VerdictAck
from ebr.allocation import AllocatedCode
from ebr.journal import EventKind, JournalEvent, JournalRejectedError, JournalWriter
from gateway.line.buffer import LineCodeBuffer
from gateway.line.ledger import CodeLedger, LatencyRecorder
from gateway.line.plc import LinePlc
from gateway.line.unit_window import UnitWindow

log = logging.getLogger("tracegate.line.pipeline")


class RejectReason(StrEnum):
    """Why the gateway rejected a unit, besides the vision's own reasons."""

    NOT_PRODUCING = "not_producing"
    PRINTER_FAULT = "printer_fault"
    PRINT_REFUSED = "print_refused"
    NO_CODE = "no_code"
    NO_IMAGE = "no_image"
    LATE_VERDICT = "late_verdict"
    NOT_DURABLE = "not_durable"
    VISION_OVERLOAD = "vision_overload"
    REJECTED_AT_GATE = "rejected_at_gate"
    PLC_UNREACHABLE = "plc_unreachable"
    MISSED_TRIGGER = "missed_trigger"
    UNSUPPORTED_RESULT = "unsupported_result"


class Alarm(StrEnum):
    """Alarm ids the pipeline raises (defined in gateway.alarms.catalog)."""

    LATE_VERDICT = "LATE_VERDICT"
    REJECT_MISSED = "REJECT_MISSED"
    UNKNOWN_UNIT = "UNKNOWN_UNIT"
    DUPLICATE_TRIGGER = "DUPLICATE_TRIGGER"
    OUT_OF_ORDER_ACK = "OUT_OF_ORDER_ACK"
    SERIAL_POOL_LOW = "SERIAL_POOL_LOW"
    DEVICE_FAULT = "DEVICE_FAULT"
    JOURNAL_FAILURE = "JOURNAL_FAILURE"
    AUDIT_TRAIL_BROKEN = "AUDIT_TRAIL_BROKEN"


def first_line(error: BaseException) -> str:
    """What an operator reads of a store's error (a database error's text goes on with the
    SQL and its parameters, which the log keeps)."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


RaiseAlarm = Callable[[Alarm, str, str], None]
"""(alarm, source, detail)."""


class VerdictObserver(Protocol):
    """Told of every verdict as it is given (the metrics): it must only count."""

    def accepted(self, latency_s: float) -> None: ...

    def rejected(self, reason: str) -> None: ...


@dataclass
class UnitTrack:
    """One unit on its way to the gate. Times are time.monotonic(), which is also the clock of
    asyncio's loop (`call_at`, `timeout_at`)."""

    ref: int
    triggered_at: float
    deadline: float
    code: AllocatedCode | None = None
    frame_at: float | None = None
    decision: str | None = None
    """None while open; "accepting", "accepted" or "rejected"."""
    reason: str | None = None
    expect_bin: bool = False
    confirmed: bool = False
    timers: list[asyncio.TimerHandle] = field(default_factory=list)

    @property
    def unit_ref(self) -> str:
        return str(self.ref)

    @property
    def settled(self) -> bool:
        return self.decision in ("accepted", "rejected")


@dataclass
class PipelineCounts:
    triggers: int = 0
    accepted: int = 0
    rejected: int = 0
    reject_confirmed: int = 0
    reject_missed: int = 0
    late_verdicts: int = 0
    no_image: int = 0
    unknown_units: int = 0
    duplicate_triggers: int = 0
    missed_triggers: int = 0
    uncoded: int = 0
    """Rejected before a code was taken (not producing, printer down, no code, missed)."""
    reasons: dict[str, int] = field(default_factory=dict)


class UnitPipeline:
    def __init__(
        self,
        *,
        batch_id: int,
        plc: LinePlc,
        printer: Printer,
        printer_fields: int,
        vision: VisionService,
        buffer: LineCodeBuffer,
        journal: JournalWriter,
        raise_alarm: RaiseAlarm,
        verdict_deadline_s: float,
        reject_confirm_s: float,
        producing: Callable[[], bool],
        on_accepted: Callable[[UnitTrack], None] | None = None,
        on_reject_missed: Callable[[UnitTrack], Coroutine[Any, Any, None]] | None = None,
        observer: VerdictObserver | None = None,
    ) -> None:
        self.batch_id = batch_id
        self.plc = plc
        self.printer = printer
        self.printer_fields = printer_fields
        self.vision = vision
        self.buffer = buffer
        self.journal = journal
        self.raise_alarm = raise_alarm
        self.verdict_deadline_s = verdict_deadline_s
        self.reject_confirm_s = reject_confirm_s
        self.producing = producing
        self.on_accepted = on_accepted
        self.on_reject_missed = on_reject_missed
        self.observer = observer
        self.ledger = CodeLedger()
        self.latency = LatencyRecorder()
        self.stages = {
            name: LatencyRecorder(20_000) for name in ("image", "verify", "durable", "plc")
        }
        """Where an accepted unit's time went: trigger→image, image→verified,
        verified→durable, durable→PLC acknowledged."""
        self.counts = PipelineCounts()
        self.units: UnitWindow[UnitTrack] = UnitWindow.for_line(
            verdict_deadline_s=verdict_deadline_s, reject_confirm_s=reject_confirm_s
        )
        self._last_ref: int | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = False

    # --- inputs --------------------------------------------------------------------------------

    def on_trigger(self, ref: int, received_at: float) -> None:
        if ref in self.units:
            self.counts.duplicate_triggers += 1
            self.raise_alarm(
                Alarm.DUPLICATE_TRIGGER, self.plc.name, f"unit {ref} triggered twice; ignored"
            )
            return
        last = self._last_ref
        if last is not None and ref <= last:
            self.counts.duplicate_triggers += 1
            self.raise_alarm(
                Alarm.DUPLICATE_TRIGGER,
                self.plc.name,
                f"unit {ref} triggered after unit {last}: references must increase; ignored "
                "(the PLC rejects a unit it has no verdict for)",
            )
            return
        if last is not None and ref > last + 1:
            for missing in range(last + 1, min(ref, last + 1001)):
                self.counts.missed_triggers += 1
                self._record_reject(missing, None, RejectReason.MISSED_TRIGGER, "no trigger seen")
        self._last_ref = ref
        self.counts.triggers += 1
        track = UnitTrack(ref, received_at, received_at + self.verdict_deadline_s)
        self.units.add(track, time.monotonic())
        loop = asyncio.get_running_loop()
        track.timers.append(loop.call_at(track.deadline, self._on_deadline, track))
        if not self.producing():
            self._reject(track, RejectReason.NOT_PRODUCING, "the batch is not running")
            return
        if self.printer.health().state is not LinkState.UP:
            self._reject(track, RejectReason.PRINTER_FAULT, "printer not connected")
            return
        code = self.buffer.take()
        if code is None:
            self.raise_alarm(Alarm.SERIAL_POOL_LOW, self.buffer.line_id, "no code ready")
            self._reject(track, RejectReason.NO_CODE, "no code ready (buffer empty)")
            return
        track.code = code
        self.ledger.issue(code.key)
        self.vision.verifier.assign(track.unit_ref, code)
        self._journal(
            JournalEvent(
                self.batch_id, EventKind.UNIT_ISSUED, unit_ref=track.unit_ref, code_key=code.key
            )
        )
        self._spawn(self._print(track, code))

    def on_image(self, result: Frame | SmartResult) -> None:
        try:
            ref = int(result.unit_ref)
        except ValueError:
            ref = -1
        track = self.units.get(ref)
        if track is None or track.code is None or track.decision is not None:
            if track is None:
                self.counts.unknown_units += 1
                self.raise_alarm(
                    Alarm.UNKNOWN_UNIT,
                    self.vision.verifier.product.id,
                    f"image for unknown unit {result.unit_ref!r} ignored",
                )
            return
        track.frame_at = time.monotonic()
        if isinstance(result, SmartResult):
            self._reject(
                track, RejectReason.UNSUPPORTED_RESULT, "smart-camera results are not verified"
            )
            return
        try:
            reply = self.vision.submit_bytes(
                track.unit_ref,
                result.data,
                result.width,
                result.height,
                is_png=result.pixel_format is PixelFormat.PNG,
            )
        except BackPressureError as error:
            self._reject(track, RejectReason.VISION_OVERLOAD, str(error))
            return
        self._spawn(self._decide(track, reply))

    def on_print_refused(self, unit_ref: str, reason: str | None) -> None:
        with contextlib.suppress(ValueError):
            track = self.units.get(int(unit_ref))
            if track is not None and track.decision is None:
                self._reject(track, RejectReason.PRINT_REFUSED, reason or "printer refused")

    def on_bin(self, ref: int) -> None:
        track = self.units.get(ref)
        if track is None:
            self._journal(
                JournalEvent(
                    self.batch_id,
                    EventKind.REJECT_CONFIRMED,
                    unit_ref=str(ref),
                    data={"note": "unit not tracked by this gateway session"},
                )
            )
            return
        if track.confirmed:
            return
        if track.decision in ("accepted", "accepting"):
            self._revoke(track, "the PLC rejected a unit it had accepted")
        track.confirmed = True
        self.counts.reject_confirmed += 1
        self._journal(
            JournalEvent(self.batch_id, EventKind.REJECT_CONFIRMED, unit_ref=track.unit_ref)
        )

    # --- steps ---------------------------------------------------------------------------------

    async def _print(self, track: UnitTrack, code: AllocatedCode) -> None:
        text_lines = (code.hri,) * (self.printer_fields - 1)
        try:
            await self.printer.send(PrintItem(track.unit_ref, code.data, text_lines))
        except DriverError as error:
            if track.decision is None:
                self._reject(track, RejectReason.PRINTER_FAULT, str(error))

    async def _decide(self, track: UnitTrack, reply: asyncio.Future[VerificationResult]) -> None:
        result = await reply
        verified_at = time.monotonic()
        if track.decision is not None:
            return
        if not result.accepted:
            reason = result.reason.value if result.reason else "rejected"
            self._reject(track, reason, result.detail)
            return
        assert track.code is not None
        track.decision = "accepting"
        durable = self._journal(
            JournalEvent(
                self.batch_id,
                EventKind.UNIT_ACCEPTED,
                unit_ref=track.unit_ref,
                code_key=track.code.key,
                data={"grade": result.grade.value if result.grade else None},
            )
        )
        try:
            async with asyncio.timeout_at(track.deadline):
                await asyncio.shield(durable)
        except TimeoutError:
            self._revoke(track, "record not durable before the verdict deadline", late=True)
            return
        except Exception as error:
            self._revoke(track, f"record not written: {error}")
            return
        if track.decision != "accepting":
            return
        durable_at = time.monotonic()
        try:
            ack = await self.plc.set_verdict(track.ref, True)
        except DriverError as error:
            self._revoke(track, f"accept not confirmed by the PLC: {error}")
            return
        if track.decision != "accepting":
            return
        if ack is VerdictAck.APPLIED:
            track.decision = "accepted"
            self.counts.accepted += 1
            self.ledger.accept(track.code.key)
            done_at = time.monotonic()
            self.latency.record((done_at - track.triggered_at) * 1000)
            if self.observer is not None:
                self.observer.accepted(done_at - track.triggered_at)
            frame_at = track.frame_at or verified_at
            for stage, began, ended in (
                ("image", track.triggered_at, frame_at),
                ("verify", frame_at, verified_at),
                ("durable", verified_at, durable_at),
                ("plc", durable_at, done_at),
            ):
                self.stages[stage].record((ended - began) * 1000)
            if self.on_accepted is not None:
                self.on_accepted(track)
            return
        if ack is not VerdictAck.LATE:
            self.raise_alarm(
                Alarm.OUT_OF_ORDER_ACK,
                self.plc.name,
                f"PLC answered {ack.name} to the accept verdict of unit {track.ref}",
            )
        self._revoke(track, f"PLC answered {ack.name}", late=ack is VerdictAck.LATE)

    def _on_deadline(self, track: UnitTrack) -> None:
        if track.decision is not None:
            return
        if track.frame_at is None:
            self.counts.no_image += 1
            self._reject(track, RejectReason.NO_IMAGE, "no image before the verdict deadline")
            return
        self._count_late(track)
        self._reject(track, RejectReason.LATE_VERDICT, "verification not done by the deadline")

    def _count_late(self, track: UnitTrack) -> None:
        self.counts.late_verdicts += 1
        self.raise_alarm(
            Alarm.LATE_VERDICT, self.plc.name, f"verdict for unit {track.ref} was late"
        )

    def _revoke(self, track: UnitTrack, detail: str, *, late: bool = False) -> None:
        """An accept that did not hold: the unit is (or will be) rejected at the gate. A unit
        already rejected (its bin event came first) is not rejected twice."""
        if track.decision not in ("accepted", "accepting"):
            return
        if late:
            self._count_late(track)
        if track.decision == "accepted":
            self.counts.accepted -= 1
        track.decision = None
        reason = RejectReason.LATE_VERDICT if late else RejectReason.REJECTED_AT_GATE
        self._reject(track, reason, detail, tell_plc=False)

    def _reject(self, track: UnitTrack, reason: str, detail: str, *, tell_plc: bool = True) -> None:
        track.decision = "rejected"
        track.reason = reason
        track.expect_bin = True
        self.counts.rejected += 1
        self.counts.reasons[reason] = self.counts.reasons.get(reason, 0) + 1
        if track.code is not None:
            self.ledger.reject(track.code.key)
        else:
            self.counts.uncoded += 1
        self._record_reject(track.ref, track.code, reason, detail)
        if tell_plc:
            self._spawn(self._tell_reject(track))
        loop = asyncio.get_running_loop()
        confirm_at = track.triggered_at + self.reject_confirm_s
        track.timers.append(loop.call_at(confirm_at, self._check_bin, track))

    def _record_reject(
        self, ref: int, code: AllocatedCode | None, reason: str, detail: str
    ) -> None:
        if self.observer is not None:
            self.observer.rejected(str(reason))
        self._journal(
            JournalEvent(
                self.batch_id,
                EventKind.UNIT_REJECTED,
                unit_ref=str(ref),
                code_key=code.key if code else None,
                data={"reason": str(reason), "detail": detail},
            )
        )

    async def _tell_reject(self, track: UnitTrack) -> None:
        """The PLC rejects without it too (fail-safe); saying so makes the intent explicit."""
        with contextlib.suppress(DriverError, TimeoutError):
            async with asyncio.timeout(1.0):
                await self.plc.set_verdict(track.ref, False)

    def _check_bin(self, track: UnitTrack) -> None:
        if track.confirmed or track.decision != "rejected":
            return
        if track.code is None and self._stopping:
            return
        self.counts.reject_missed += 1
        self._journal(
            JournalEvent(
                self.batch_id,
                EventKind.REJECT_MISSED,
                unit_ref=track.unit_ref,
                code_key=track.code.key if track.code else None,
                data={"reason": track.reason or ""},
            )
        )
        self.raise_alarm(
            Alarm.REJECT_MISSED,
            self.plc.name,
            f"unit {track.ref} was rejected but the bin sensor did not see it: line stopped",
        )
        if self.on_reject_missed is not None:
            self._spawn(self.on_reject_missed(track))

    # --- plumbing ------------------------------------------------------------------------------

    def _journal(self, event: JournalEvent) -> asyncio.Future[Any]:
        """An accept (waited for) and a missed reject are written at once; the rest rides in
        the next commit (`lazy`)."""
        lazy = event.kind not in (EventKind.UNIT_ACCEPTED, EventKind.REJECT_MISSED)
        future = self.journal.submit(event, lazy=lazy)
        future.add_done_callback(self._journaled)
        return future

    def _journaled(self, future: asyncio.Future[Any]) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if isinstance(error, JournalRejectedError):
            log.error("journal refused an event (its rules, not the store): %s", error)
        elif error is not None:
            log.error("journal could not write an event: %s", error)
            self.raise_alarm(Alarm.JOURNAL_FAILURE, "journal", first_line(error))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def open_units(self) -> int:
        return sum(1 for t in self.units.values() if t.decision in (None, "accepting"))

    def line_stopping(self) -> None:
        """The line is being stopped: blank units still on the conveyor will not reach the
        gate, so their rejects are not awaited (units with a code must still be confirmed)."""
        self._stopping = True

    async def drain(self, timeout: float) -> None:
        """Wait until every unit has its verdict (or `timeout` passes)."""
        deadline = time.monotonic() + timeout
        while self.open_units and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    async def close(self) -> None:
        for track in self.units.values():
            for timer in track.timers:
                timer.cancel()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
