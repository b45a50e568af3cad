"""One line running one batch: devices, journal, vision, pipeline, packing, supervisor, alarms.

`LineRuntime` is used as `async with LineRuntime(...) as runtime:`; on entry it settles what a
previous gateway left unconfirmed, loads the batch and starts one task per input (PLC events,
camera images, printer reports) plus the live reconciliation, the device watch and the loop-lag
probe. Operator actions go through `runtime.supervisor`; `run_units(n)` is what `tracegate demo`
and the tests use to run a batch of n units to its reconciliation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from config.sections import LineConfig
from drivers.base import Camera, DriverError, LinkState, Printer, PrintOutcome, UsageError
from drivers.camera.vision import CommissionedCodes, Verifier, VisionService, VisionSettings
from ebr.allocation import CodeAllocator
from ebr.audit.actor import Actor
from ebr.catalog import load_batch_context
from ebr.db import checkpoint_wal
from ebr.journal import EventKind, Journal, JournalEvent, JournalWriter, verify_journal
from ebr.line_codes import batch_status, unpacked_codes
from gateway.alarms.catalog import RUNTIME_ALARMS
from gateway.alarms.manager import AlarmManager
from gateway.line.buffer import LineCodeBuffer
from gateway.line.challenge import rendered_challenge
from gateway.line.labels import CaseLabeller
from gateway.line.packing import PackedContainer, PackingStation
from gateway.line.pipeline import Alarm, UnitPipeline, UnitTrack
from gateway.line.plc import LinePlc, PlcEvent, PlcEventKind
from gateway.line.reconciler import LiveReconciler
from gateway.line.recovery import ledger_from_store, settle_last_accepts, void_unconfirmed
from gateway.line.rework import ReworkStation
from gateway.line.supervisor import LineSupervisor
from gateway.loop_lag import LoopLagProbe
from gateway.site_store import SiteStore
from serialization.lifecycle import BatchPhase, ChallengePolicy
from serialization.recognize import RecognitionContext
from serialization.reconciliation import Reconciliation
from serialization.rules import PackagingLevel

log = logging.getLogger("tracegate.line")

GIL_SWITCH_INTERVAL_S = 0.0005
"""The loop, the vision worker and the journal's commit thread hand the GIL to each other on
every unit; with Python's default 5 ms interval a thread done with its C work (a decode, an
fsync) can wait that long for the GIL, and the verdict with it."""


@dataclass
class CaseLabelDevices:
    printer: Printer
    job: str
    fields: tuple[str, ...]
    camera: Camera


@dataclass
class LineDevices:
    plc: LinePlc
    printer: Printer
    printer_job: str
    printer_fields: tuple[str, ...]
    camera: Camera
    case_labels: CaseLabelDevices | None = None
    """The case printer and camera, when the line has both."""


class LineRuntime:
    def __init__(
        self,
        store: SiteStore,
        line: LineConfig,
        batch_id: int,
        devices: LineDevices,
        *,
        alarms: AlarmManager | None = None,
        vision_settings: VisionSettings | None = None,
    ) -> None:
        self.store = store
        self.line = line
        self.batch_id = batch_id
        self.devices = devices
        self.settings = line.runtime
        self.alarms = alarms or AlarmManager(definitions=RUNTIME_ALARMS)
        self.vision_settings = vision_settings or VisionSettings()
        self.journal = JournalWriter(
            Journal(store.engine, audit=store.audit, anchor_every_s=1.0), window_s=0.0
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._stack = contextlib.AsyncExitStack()
        self.voided_at_start: list[str] = []
        self.voided_at_end: list[str] = []
        self.final: Reconciliation | None = None
        self.started_at = time.monotonic()
        self._closing = False
        self._signals: dict[str, set[int]] = {"case": set(), "pallet": set()}
        """Case and pallet numbers already handled: a repeated PLC signal packs nothing."""
        self._stopped_by_alarm = False

    # --- lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> LineRuntime:
        try:
            await self._open()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.pipeline.close()
        await self._stack.aclose()

    async def _open(self) -> None:
        sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_INTERVAL_S))
        if self.settings.case_mode != "plc-count":
            raise UsageError(
                f"line {self.line.id}: case_mode {self.settings.case_mode} is not supported yet",
                hint="use case_mode: plc-count (the PLC's case-complete signal)",
            )
        engine = self.store.engine
        await self.journal.start()
        self._stack.push_async_callback(self.journal.close)
        status = await asyncio.to_thread(batch_status, engine, self.batch_id)
        with engine.connect() as conn:
            context = load_batch_context(conn, self.batch_id, PackagingLevel.UNIT)
        if context.line_id != self.line.id:
            raise DriverError(
                f"batch {self.batch_id} belongs to line {context.line_id}, not {self.line.id}",
                hint="run the batch on its own line",
            )
        self.context = context
        for level in self._levels():
            self.voided_at_start += await void_unconfirmed(
                engine,
                self.journal,
                batch_id=self.batch_id,
                line_id=self.line.id,
                level=level,
                reason="gateway restart: unconfirmed codes voided (no durable verdict)",
            )
        self.revoked_at_start = await settle_last_accepts(
            engine, self.journal, self.devices.plc, batch_id=self.batch_id
        )
        ledger, _ = await asyncio.to_thread(
            ledger_from_store, engine, batch_id=self.batch_id, line_id=self.line.id
        )
        commissioned = CommissionedCodes()
        commissioned.preload(ledger.issued)
        verifier = Verifier(
            context.rule,
            context.product,
            context.lot_data,
            settings=self.vision_settings,
            commissioned=commissioned,
        )
        self.context = context
        self.vision = VisionService(verifier)
        await self.vision.start()
        self._stack.push_async_callback(self.vision.stop)
        allocator = CodeAllocator(engine, master_key=self.store.master_key, audit=self.store.audit)
        buffer_config = self.line.code_buffer
        self.buffer = LineCodeBuffer(
            allocator,
            line_id=self.line.id,
            batch_id=self.batch_id,
            size=buffer_config.size,
            low_water=buffer_config.low_water,
        )
        self._stack.push_async_callback(self.buffer.close)
        self.supervisor = LineSupervisor(
            engine=engine,
            audit=self.store.audit,
            batch_id=self.batch_id,
            status=status,
            journal=self.journal,
            plc=self.devices.plc,
            policy=ChallengePolicy(self.settings.challenge_after_stop_s),
            checklist=self.settings.clearance_checklist,
        )
        self.pipeline = UnitPipeline(
            batch_id=self.batch_id,
            plc=self.devices.plc,
            printer=self.devices.printer,
            printer_fields=len(self.devices.printer_fields),
            vision=self.vision,
            buffer=self.buffer,
            journal=self.journal,
            raise_alarm=self._raise,
            verdict_deadline_s=self.settings.verdict_deadline_ms / 1000,
            reject_confirm_s=self.settings.reject_confirm_ms / 1000,
            producing=lambda: self.supervisor.producing and not self._closing,
            on_accepted=self._accepted,
            on_reject_missed=self._reject_missed,
        )
        self.pipeline.ledger = ledger
        self.cases = self._station(
            "case", allocator, self._case_capacity(), labeller=await self._case_labeller(engine)
        )
        self.pallets = self._station("pallet", allocator, self._pallet_capacity())
        for station, below in (
            (self.cases, PackagingLevel.UNIT),
            (self.pallets, PackagingLevel.CASE),
        ):
            for key in unpacked_codes(engine, self.batch_id, line_id=self.line.id, level=below):
                station.add(key)
        self.rework = ReworkStation(
            engine,
            self.journal,
            batch_id=self.batch_id,
            case_buffer=self.cases.buffer,
            on_foreign=lambda detail: self.alarms.activate("FOREIGN_CODE", "rework", detail),
            on_decommissioned=self._decommissioned,
            context=RecognitionContext(
                drug_ids=[p.nmpa_drug_id for p in [context.product] if p.nmpa_drug_id]
            ),
        )
        self.reconciler = LiveReconciler(
            engine,
            batch_id=self.batch_id,
            line_id=self.line.id,
            ledger=ledger,
            buffer=self.buffer,
            on_drift=self._drift,
            on_balanced=self._balanced,
        )
        self.alarms.subscribe(self._journal_alarm)
        await self.supervisor.restarted()
        self.supervisor.plc_state = await self.devices.plc.packml_state()
        await self.devices.printer.load_job(self.devices.printer_job, self.devices.printer_fields)
        self._spawn(self._plc_events())
        self._spawn(self._images())
        self._spawn(self._print_reports())
        self._spawn(self._every(self.settings.reconcile_every_s, self._reconcile))
        self._spawn(self._every(0.5, self._watch))
        self._spawn(self._every(10.0, self._checkpoint))
        probe = LoopLagProbe(on_lag=self._lag, on_recover=self._lag_over)
        self.loop_lag = probe
        self._spawn(probe.run())

    def _levels(self) -> list[PackagingLevel]:
        return [level for level, _, _ in self.store.config.levels_of(self.context.product.id)]

    def _level_quantity(self, level: PackagingLevel) -> int | None:
        for lvl, _, quantity in self.store.config.levels_of(self.context.product.id):
            if lvl is level:
                return quantity
        return None

    def _case_capacity(self) -> int:
        return self.settings.units_per_case or self._level_quantity(PackagingLevel.CASE) or 10

    def _pallet_capacity(self) -> int:
        return self.settings.cases_per_pallet or self._level_quantity(PackagingLevel.PALLET) or 8

    async def _case_labeller(self, engine: Any) -> CaseLabeller | None:
        devices = self.devices.case_labels
        if devices is None or PackagingLevel.CASE not in self._levels():
            return None
        with engine.connect() as conn:
            case = load_batch_context(conn, self.batch_id, PackagingLevel.CASE)
        verifier = Verifier(case.rule, case.product, case.lot_data, settings=self.vision_settings)
        await devices.printer.load_job(devices.job, devices.fields)
        labeller = CaseLabeller(devices.printer, len(devices.fields), devices.camera, verifier)
        self._spawn(labeller.run())
        return labeller

    def _station(
        self,
        level: str,
        allocator: CodeAllocator,
        capacity: int,
        *,
        labeller: CaseLabeller | None = None,
    ) -> PackingStation:
        packaging = PackagingLevel(level)
        has_rule = packaging in self._levels()
        buffer = (
            LineCodeBuffer(
                allocator,
                line_id=self.line.id,
                batch_id=self.batch_id,
                size=20,
                low_water=5,
                level=packaging,
            )
            if has_rule
            else None
        )
        if buffer is not None:
            self._stack.push_async_callback(buffer.close)
        return PackingStation(
            level=level,
            batch_id=self.batch_id,
            capacity=capacity,
            buffer=buffer,
            journal=self.journal,
            on_packed=self._packed,
            on_error=lambda message: self._raise(Alarm.DEVICE_FAULT, f"{level}-packing", message),
            labeller=labeller,
        )

    # --- operator actions used by the demo and tests -----------------------------------------

    async def prepare(self, actor: Actor) -> None:
        """Line clearance, the vision challenge and the start, as one operator would do them."""
        for station in (self.cases, self.pallets):
            if station.buffer is not None:
                await station.buffer.fill()
        await self.buffer.fill()
        if self.supervisor.phase in (BatchPhase.DOWNLOADED, BatchPhase.CLEARANCE):
            await self.supervisor.clearance(actor, self.supervisor.checklist)
        if self.supervisor.phase is BatchPhase.CHALLENGE:
            await self.challenge(actor)
        await self.supervisor.start(actor)

    async def challenge(self, actor: Actor) -> bool:
        record = await asyncio.to_thread(
            rendered_challenge,
            self.context.rule,
            self.context.product,
            self.context.lot_data,
            self.vision_settings,
        )
        summary = {
            "passed": record.passed,
            "outcomes": [
                {"kind": o.kind.value, "passed": o.passed, "reason": str(o.result.reason)}
                for o in record.outcomes
            ],
        }
        await self.supervisor.challenge_done(actor, record.passed, summary)
        return record.passed

    async def run_units(
        self, units: int, actor: Actor, *, timeout: float | None = None
    ) -> str | None:
        """Produce until the batch has `units` codes issued, then complete and reconcile it.

        Returns why production ended early, if it did: the timeout, or the line stopped by a
        missed reject (an operator must find the unit; the batch is completed here as is)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        ended_early = None
        while len(self.pipeline.ledger.issued) < units:
            if self._stopped_by_alarm:
                ended_early = "line stopped: a reject was not confirmed by the bin sensor"
                break
            if deadline is not None and time.monotonic() > deadline:
                ended_early = f"{units} units not reached within {timeout:g} s"
                break
            if self.supervisor.phase is BatchPhase.HELD:
                await self.supervisor.start(actor)
            await asyncio.sleep(0.05)
        await self.finish(actor)
        return ended_early

    async def finish(self, actor: Actor) -> Reconciliation | None:
        """Complete the batch: run out the conveyor, close the partial case and pallet, void the
        unused codes, reconcile, verify the journal."""
        self._closing = True
        await self.pipeline.drain(self.settings.verdict_deadline_ms / 1000 + 1)
        await asyncio.sleep(self.settings.reject_confirm_ms / 1000)
        self.pipeline.line_stopping()
        with contextlib.suppress(DriverError):
            await self.devices.plc.command("Stop")
        if self.supervisor.phase in (BatchPhase.RUNNING, BatchPhase.HELD):
            await self.supervisor.complete(actor)
        await self.cases.complete(
            self.cases.counts.cases + self.cases.counts.partial_cases + 1, partial=True
        )
        await self.pallets.complete(self.pallets.counts.pallets + 1, partial=True)
        for level in self._levels():
            self.voided_at_end += await void_unconfirmed(
                self.store.engine,
                self.journal,
                batch_id=self.batch_id,
                line_id=self.line.id,
                level=level,
                reason="batch end: unused codes voided",
            )
        self.buffer.drain()
        for station in (self.cases, self.pallets):
            if station.buffer is not None:
                station.buffer.drain()
        self.final = await self.reconciler.check()
        verification = await asyncio.to_thread(verify_journal, self.store.engine, self.batch_id)
        summary = {
            "balanced": bool(self.final and self.final.balanced),
            "counts": dict(self.final.counts) if self.final else {},
            "journal_verified": verification.ok,
        }
        if self.supervisor.phase is BatchPhase.COMPLETING:
            await self.supervisor.reconciled(actor, summary)
        return self.final

    # --- inputs ----------------------------------------------------------------------------------

    async def _plc_events(self) -> None:
        async for event in self.devices.plc.events():
            await self._on_plc_event(event)

    async def _on_plc_event(self, event: PlcEvent) -> None:
        match event.kind:
            case PlcEventKind.TRIGGER:
                self.pipeline.on_trigger(event.number, event.received_at)
            case PlcEventKind.REJECT:
                self.pipeline.on_bin(event.number)
            case PlcEventKind.CASE:
                self._spawn(self._complete(self.cases, event.number))
            case PlcEventKind.PALLET:
                self._spawn(self._complete(self.pallets, event.number))
            case PlcEventKind.STATE:
                state = await self.devices.plc.packml_state()
                await self.supervisor.plc_state_changed(state)

    async def _complete(self, station: PackingStation, number: int) -> None:
        handled = self._signals[station.level]
        if number not in handled:
            handled.add(number)
            await station.complete(number)

    async def _images(self) -> None:
        async for result in self.devices.camera.results():
            self.pipeline.on_image(result)

    async def _print_reports(self) -> None:
        async for report in self.devices.printer.reports():
            if report.outcome is PrintOutcome.REFUSED:
                self.pipeline.on_print_refused(report.unit_ref, report.reason)

    def _accepted(self, track: UnitTrack) -> None:
        if track.code is not None:
            self.cases.add(track.code.key)

    def _decommissioned(self, key: str, destroyed: bool) -> None:
        ledger = self.pipeline.ledger
        if destroyed:
            ledger.destroy(key)
        else:
            ledger.sample(key)
        self.cases.withdraw(key)

    def _packed(self, container: PackedContainer) -> None:
        if container.level == "case":
            self.pallets.add(container.code.key)

    async def _reject_missed(self, track: UnitTrack) -> None:
        self._stopped_by_alarm = True
        with contextlib.suppress(DriverError):
            await self.supervisor.stop_line(f"reject of unit {track.ref} not confirmed")

    # --- periodic ----------------------------------------------------------------------------

    async def _every(self, period: float, work: Any) -> None:
        while True:
            await asyncio.sleep(period)
            try:
                await work()
            except Exception:
                log.exception("periodic task failed")

    async def _checkpoint(self) -> None:
        await asyncio.to_thread(checkpoint_wal, self.store.engine)

    async def _reconcile(self) -> None:
        if not self._closing:
            await self.reconciler.check()

    def _drift(self, result: Reconciliation) -> None:
        self.alarms.activate("RECONCILIATION_DRIFT", self.line.id, result.describe())

    def _balanced(self, result: Reconciliation) -> None:
        with contextlib.suppress(Exception):
            self.alarms.clear("RECONCILIATION_DRIFT", self.line.id)

    async def _watch(self) -> None:
        for device in (self.devices.plc, self.devices.printer, self.devices.camera):
            health = device.health()
            if health.state is LinkState.UP:
                with contextlib.suppress(Exception):
                    self.alarms.clear("DEVICE_FAULT", device.name)
            else:
                self.alarms.activate(
                    "DEVICE_FAULT", device.name, f"{health.state.value}: {health.last_error or ''}"
                )
        remaining = self.buffer.remaining
        low = remaining < self.settings.serial_pool_low
        if low and not self.buffer.allocating and not self._closing:
            self.alarms.activate("SERIAL_POOL_LOW", self.line.id, f"{remaining} codes ready")
        self.alarms.tick()

    def _lag(self, lag_s: float) -> None:
        self.alarms.activate("LOOP_LAG", "gateway", f"event loop {lag_s * 1000:.0f} ms late")

    def _lag_over(self, lag_s: float) -> None:
        with contextlib.suppress(Exception):
            self.alarms.clear("LOOP_LAG", "gateway")

    # --- alarms --------------------------------------------------------------------------------

    def _raise(self, alarm: Alarm, source: str, detail: str) -> None:
        self.alarms.activate(alarm.value, source, detail)

    def _journal_alarm(self, transition: Any) -> None:
        self.journal.submit(
            lazy=True,
            event=JournalEvent(
                self.batch_id,
                EventKind.NOTE,
                data={
                    "topic": "alarm",
                    "alarm": transition.alarm_id,
                    "source": transition.source,
                    "from": str(transition.old),
                    "to": str(transition.new),
                    "user": transition.user,
                    "detail": transition.detail,
                },
            ),
        )

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        self._tasks.append(asyncio.get_running_loop().create_task(work))

    # --- report --------------------------------------------------------------------------------

    def report(self) -> dict[str, Any]:
        counts = self.pipeline.counts
        ledger = self.pipeline.ledger
        return {
            "batch_id": self.batch_id,
            "phase": self.supervisor.phase.value,
            "units": len(ledger.issued),
            "accepted": len(ledger.accepted),
            "rejected": len(ledger.rejected),
            "uncoded_rejects": counts.uncoded,
            "reject_reasons": {str(k): v for k, v in counts.reasons.items()},
            "reject_confirmed": counts.reject_confirmed,
            "reject_missed": counts.reject_missed,
            "late_verdicts": counts.late_verdicts,
            "no_image": counts.no_image,
            "unknown_units": counts.unknown_units,
            "duplicate_triggers": counts.duplicate_triggers,
            "cases": self.cases.counts.cases,
            "partial_cases": self.cases.counts.partial_cases,
            "pallets": self.pallets.counts.pallets,
            "case_labels_scrapped": self.cases.labels_scrapped,
            "voided_at_start": len(self.voided_at_start),
            "revoked_at_start": len(self.revoked_at_start),
            "voided_at_end": len(self.voided_at_end),
            "reconciliation_balanced": bool(self.final and self.final.balanced),
            "latency_ms": self.pipeline.latency.percentiles(),
            "stages_ms": {
                name: recorder.percentiles() for name, recorder in self.pipeline.stages.items()
            },
            "journal_commits": self.journal.commits,
            "alarms": [
                {"id": a.id, "source": a.source, "state": str(a.state)}
                for a in self.alarms.standing()
            ],
        }
