"""The line's feed into the executed batch record (`docs/ebr.md`): what the line did, written
into the record's steps as the batch advances, at the feed's own pace.

`EbrFeed` runs beside a `LineRuntime` in a task of its own and never on the unit path: it
follows the production journal (phase changes and the line's notes), samples the process
parameters every `sample_every_s`, keeps the in-process checks' schedule, and takes the batch's
first accepted code with its frame as the set-up specimen. What it learns becomes writes in
the record's step order (`ebr_writes`), made in a worker thread:

- before production (`ebr_preparation`): the header, the line clearance with the operator's
  and a verifier's signatures, the coding specimen (its image kept as a PNG with its SHA-256),
  the vision challenge;
- production (`ebr_production`): parameters with their limits, checks when due, and events —
  alarms, stops, changeovers, challenges asked for, comments;
- at the batch's end (`ebr_closing`): the counts against the PLC's counters, the
  reconciliation against its tolerance and the yield against its limits.

The feed's failures (a database away, a refused value) raise `EBR_FEED_FAILURE` and are tried
again; the line goes on. Once the reconciliation is written the feed records nothing more, so
QA reviews a record that no longer moves. `open_ebr_feed` builds the feed for a runtime.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from config.ebr import PlcCountersConfig
from drivers.base import TagSource
from ebr.execution import ExecutionRecord, execution_requirements
from ebr.execution.context import Who
from ebr.execution.kinds import Source, Step
from ebr.orders import OrderBook
from ebr.signatures import ESignatures
from ebr.users import Users
from gateway.devices import build_device, open_device
from gateway.line.ebr_alarms import EBR_FEED_FAILURE, define_ebr_alarms
from gateway.line.ebr_clearance import ClearanceVerifier
from gateway.line.ebr_closing import counts_write, reconciliation_write
from gateway.line.ebr_counts import compare_counts, gateway_counts
from gateway.line.ebr_journal import PAGE, LineNote, notes_after
from gateway.line.ebr_parameters import HealthOf, ParameterSampler
from gateway.line.ebr_plan import FeedPlan, feed_plan
from gateway.line.ebr_preparation import Preparation
from gateway.line.ebr_production import CheckWatch, ParameterWatch
from gateway.line.ebr_recorder import LineRecorder, event_write
from gateway.line.ebr_specimen import SpecimenTap, write_specimen
from gateway.line.ebr_writes import Flushed, Write, WriteQueue
from gateway.line.runtime import LineRuntime
from gateway.line.supervisor import LineActionError
from serialization.lifecycle import BatchPhase

log = logging.getLogger("tracegate.line.ebr")

TICK_S = 0.5
CLOSE_TIMEOUT_S = 15.0
FEED_SOURCE = "batch record"


@dataclass
class FeedState:
    """What the feed has seen of the batch so far; the record holds the rest."""

    cursor: int = 0
    """The last journal seq handled."""
    clearance: LineNote | None = None
    """The latest clearance note, recorded once the phase shows it was signed."""
    clearance_queued: bool = False
    challenge_passed: bool = False
    producing: bool = False
    production_ended: bool = False
    reconciliation_queued: bool = False
    restarted: bool = False
    specimen_queued: bool = False


class EbrFeed:
    def __init__(
        self,
        runtime: LineRuntime,
        recorder: LineRecorder,
        plan: FeedPlan,
        sampler: ParameterSampler,
        *,
        counters: PlcCountersConfig,
        evidence_dir: Path,
        verifier: ClearanceVerifier | None = None,
        tick_s: float = TICK_S,
    ) -> None:
        self.runtime = runtime
        self.recorder = recorder
        self.plan = plan
        self.sampler = sampler
        self.counters = counters
        self.evidence_dir = evidence_dir
        self.tick_s = tick_s
        self.batch_id = runtime.batch_id
        self.finished = False
        """The reconciliation is written: the line has nothing more to record."""
        self.waiting: str | None = None
        """Why the writes left wait (for a person, for an earlier step), when they do."""
        self.failures: list[str] = []
        self.written = 0
        self.preparation = Preparation(recorder, runtime.store.audit, verifier)
        self.parameters = ParameterWatch(recorder, runtime.alarms)
        self.checks = CheckWatch(recorder, runtime.alarms, plan.checks, plan.check_grace)
        self._queue = WriteQueue()
        self._state = FeedState()
        self._tap = SpecimenTap()
        self._next_sample = 0.0
        self._failing = False
        self._task: asyncio.Task[None] | None = None

    # --- life cycle ------------------------------------------------------------------------

    async def start(self) -> None:
        define_ebr_alarms(self.runtime.alarms)
        done = await asyncio.to_thread(self.recorder.load)
        if Step.SETUP not in done:
            self.runtime.frame_taps.append(self._tap.frame)
            self.runtime.accept_taps.append(self._tap.accepted)
        if Step.HEADER not in done:
            self._queue.add(self.preparation.header(self._header()))
        self._task = asyncio.get_running_loop().create_task(self._run(), name="ebr-feed")

    async def close(self) -> None:
        """Stop, after a last look at the journal and a last flush (a few seconds at most)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._untap()
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await self._tick(closing=True)
        except Exception as error:
            log.exception("the batch record feed's last round failed")
            self._failed(f"{type(error).__name__}: {error}")
        if len(self._queue):
            log.warning(
                "batch %s: %d writes to the batch record not made: %s",
                self.batch_id,
                len(self._queue),
                self.waiting or "the feed was stopped",
            )

    # --- what people add --------------------------------------------------------------------

    def verify_clearance(self, verifier: ClearanceVerifier) -> None:
        """A second person's signature for the line clearance, given at the next flush."""
        self.preparation.verifier = verifier

    def comment(self, who: Who, text: str) -> None:
        """A person's comment on the batch, recorded as an event."""
        if not text or not text.strip():
            raise LineActionError(
                "a comment needs its text", hint="write what should be known about the batch"
            )
        self._queue.add(
            event_write(
                self.recorder, "comment", {"text": text.strip()}, by=who, source=Source.MANUAL
            )
        )

    @property
    def pending(self) -> int:
        return len(self._queue)

    # --- the feed's task ----------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            try:
                await self._tick()
            except Exception as error:
                log.exception("the batch record feed failed")
                self._failed(f"{type(error).__name__}: {error}")
            await asyncio.sleep(self.tick_s)

    async def _tick(self, *, closing: bool = False) -> None:
        await self._follow_journal()
        specimen = self._tap.specimen
        if specimen is not None and not self._state.specimen_queued:
            self._untap()
            image = await asyncio.to_thread(
                write_specimen, specimen, self.evidence_dir, self.batch_id
            )
            base = self.runtime.store.config.base_dir
            self._queue.add(self.preparation.specimen(specimen, image, base))
            self._state.specimen_queued = True
        now = time.monotonic()
        if self._state.producing and not closing and now >= self._next_sample:
            await self._sample()
        self._add(self.checks.tick(now, datetime.now(UTC)))
        self._flushed(await asyncio.to_thread(self._flush))

    def _flush(self) -> Flushed:
        if len(self._queue):
            self.recorder.refresh()
        return self._queue.flush(self.recorder.missing)

    async def _sample(self) -> None:
        self._next_sample = time.monotonic() + self.plan.sample_every_s
        for sample in await self.sampler.sample():
            self._add(self.parameters.take(sample))

    def _add(self, writes: list[Write]) -> None:
        for write in writes:
            self._queue.add(write)

    def _flushed(self, result: Flushed) -> None:
        self.written += len(result.done)
        self.waiting = result.waiting
        for write, outcome in result.done:
            if write.then is not None:
                write.then(outcome)
        if any(write.step is Step.RECONCILIATION for write, _ in result.done):
            self.finished = True
        for write, reason in result.dropped:
            self._failed(f"{write.what} refused: {reason}")
        if result.error is not None:
            self._failed(result.error)
        elif not result.dropped and self._failing:
            self._failing = False
            self.runtime.alarms.clear(EBR_FEED_FAILURE.id, FEED_SOURCE)

    def _failed(self, detail: str) -> None:
        self.failures.append(detail)
        self._failing = True
        self.runtime.alarms.activate(EBR_FEED_FAILURE.id, FEED_SOURCE, detail)

    def _untap(self) -> None:
        with contextlib.suppress(ValueError):
            self.runtime.frame_taps.remove(self._tap.frame)
        with contextlib.suppress(ValueError):
            self.runtime.accept_taps.remove(self._tap.accepted)

    def _header(self) -> dict[str, Any]:
        context = self.runtime.context
        lot = context.lot_data
        return {
            "product": {"id": context.product.id, "name": context.product.name},
            "gtin": context.product.gtin,
            "lot": lot.lot,
            "expiry": lot.expiry.isoformat() if lot.expiry else None,
            "production_date": lot.production_date.isoformat() if lot.production_date else None,
            "line": self.runtime.line.id,
            "order": self.plan.order_number,
            "planned_quantity": self.plan.planned_quantity,
            "limits_from": self.plan.limits_from,
        }

    # --- the journal --------------------------------------------------------------------------

    async def _follow_journal(self) -> None:
        engine = self.runtime.store.engine
        while not self._state.reconciliation_queued:
            notes = await asyncio.to_thread(notes_after, engine, self.batch_id, self._state.cursor)
            for note in notes:
                await self._note(note)
                self._state.cursor = note.seq
            if len(notes) < PAGE:
                return

    async def _note(self, note: LineNote) -> None:
        match note.topic:
            case "phase":
                ending = note.data.get("to") == BatchPhase.COMPLETING.value
                if ending and self._state.producing:
                    await self._sample()
                self._phase(note)
            case "clearance":
                self._state.clearance = note
            case "challenge":
                self._challenge(note)
            case "reconciliation":
                await self._reconciliation(note)
            case "alarm":
                self._alarm(note)
            case "changeover":
                self._event("changeover", _without(note.data, "topic"), note)
            case "challenge_required":
                reasons = [str(reason) for reason in note.data.get("reasons", [])]
                self._state.restarted |= any("restart" in reason for reason in reasons)
                self._event("challenge_required", {"reasons": reasons}, note)

    def _phase(self, note: LineNote) -> None:
        before, after = str(note.data.get("from")), str(note.data.get("to"))
        state = self._state
        details = _without(note.data, "topic")
        if before == BatchPhase.CLEARANCE.value and after == BatchPhase.CHALLENGE.value:
            self._queue_clearance()
        if after == BatchPhase.HELD.value:
            self._event("line_stopped", details, note)
        if before == BatchPhase.HELD.value and after == BatchPhase.RUNNING.value:
            self._event("line_resumed", details, note)
        if after == BatchPhase.COMPLETING.value and not state.production_ended:
            self._end_production(note)
        was_producing = state.producing
        state.producing = after == BatchPhase.RUNNING.value and not state.production_ended
        if state.producing and not was_producing:
            self.checks.start(note.at)
            self._next_sample = time.monotonic() + self.plan.sample_every_s

    def _queue_clearance(self) -> None:
        note = self._state.clearance
        if note is None or self._state.clearance_queued or self.recorder.done(Step.CLEARANCE):
            return
        self._state.clearance_queued = True
        self._add(self.preparation.clearance(note))

    def _challenge(self, note: LineNote) -> None:
        if self.recorder.holds("challenge", "vision_challenge", f"journal:{note.seq}"):
            return
        passed = bool(note.data.get("passed"))
        record = note.data.get("record") or {}
        value = {"passed": passed, "outcomes": record.get("outcomes", [])}
        if self._state.challenge_passed or self.recorder.done(Step.CHALLENGE):
            self._event("challenge", value, note)
            return
        self._state.challenge_passed = passed
        self._queue.add(self.preparation.challenge(note, value, passed))

    def _alarm(self, note: LineNote) -> None:
        data = note.data
        activated = data.get("to") == "unack_active" and data.get("from") in ("normal", "rtn_unack")
        if activated:
            self._event("alarm", _without(data, "topic", "user"), note)
        elif data.get("user"):
            self._event("alarm_operator_action", _without(data, "topic"), note)

    def _event(self, name: str, value: dict[str, Any], note: LineNote) -> None:
        self._queue.add(event_write(self.recorder, name, value, note=note))

    def _end_production(self, note: LineNote) -> None:
        self._state.production_ended = True
        self._state.producing = False
        self._add(self.parameters.end(note))
        self._add(self.checks.end())
        self._queue.add(
            Write(
                Step.PRODUCTION,
                "the end of production",
                lambda: self.recorder.complete(Step.PRODUCTION),
            )
        )

    async def _reconciliation(self, note: LineNote) -> None:
        """The batch is reconciled: its counts and reconciliation are the line's last writes."""
        state = self._state
        if not state.production_ended:
            self._end_production(note)
        counts = self.runtime.pipeline.counts
        comparisons = await compare_counts(
            self.runtime.devices.plc.client, self.counters, lambda: gateway_counts(counts)
        )
        report = self.runtime.report()
        by = await asyncio.to_thread(self.recorder.actor, str(note.data.get("user") or ""))
        self._queue.add(
            counts_write(self.recorder, note, report, comparisons, restarted=state.restarted)
        )
        self._queue.add(reconciliation_write(self.recorder, self.plan, note, by))
        state.reconciliation_queued = True


def _without(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key not in keys}


# --- a feed for a runtime ---------------------------------------------------------------------


@contextlib.asynccontextmanager
async def open_ebr_feed(
    runtime: LineRuntime,
    *,
    verifier: ClearanceVerifier | None = None,
    tick_s: float = TICK_S,
) -> AsyncIterator[EbrFeed]:
    """The feed of `runtime`'s batch while the block runs: its record on the site's store, its
    limits from the batch's order (else the line's `ebr` section), and the devices its
    parameters name that the runtime has not opened (a checkweigher) opened for it."""
    store, line, devices = runtime.store, runtime.line, runtime.devices
    users = Users(store.audit)
    book = OrderBook(store.engine, audit=store.audit)
    order = await asyncio.to_thread(book.for_batch, runtime.batch_id)
    plan = feed_plan(
        line.ebr,
        order,
        line_id=line.id,
        devices=[device.id for device in line.devices],
        plc=devices.plc.name,
        linked=[devices.plc.name, devices.printer.name, devices.camera.name],
    )
    record = ExecutionRecord(
        store.engine,
        store.audit,
        ESignatures(users, store.audit, execution_requirements()),
        users,
        check_grace=plan.check_grace,
    )
    health: dict[str, HealthOf] = {
        device.name: device.health for device in (devices.plc, devices.printer, devices.camera)
    }
    for level in devices.levels.values():
        for extra in (level.camera, level.printer):
            if extra is not None:
                health[extra.name] = extra.health
    sources: dict[str, TagSource] = {devices.plc.name: devices.plc.client}
    async with contextlib.AsyncExitStack() as stack:
        for device_id in sorted({p.device for p in plan.parameters} - set(health)):
            configured = next((d for d in line.devices if d.id == device_id), None)
            if configured is None:
                continue
            opened = await stack.enter_async_context(
                open_device(build_device(configured, base_dir=store.config.base_dir))
            )
            health[device_id] = opened.health
            if isinstance(opened, TagSource):
                sources[device_id] = opened
        feed = EbrFeed(
            runtime,
            LineRecorder(record, runtime.batch_id, users),
            plan,
            ParameterSampler(plan.parameters, sources=sources, health=health),
            counters=line.ebr.plc_counters,
            evidence_dir=store.config.base_dir / line.ebr.evidence_dir,
            verifier=verifier,
            tick_s=tick_s,
        )
        await feed.start()
        try:
            yield feed
        finally:
            await feed.close()
