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
import hashlib
import logging
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from config.sections import LineConfig
from drivers.base import (
    Camera,
    DriverError,
    Frame,
    LinkState,
    Printer,
    PrintOutcome,
    SmartResult,
    UsageError,
)
from drivers.camera.vision import (
    CommissionedCodes,
    ContentsCode,
    Verifier,
    VisionService,
    VisionSettings,
)
from ebr.allocation import CodeAllocator
from ebr.audit.actor import Actor
from ebr.catalog import load_batch_context
from ebr.db import checkpoint_wal
from ebr.journal import (
    CommitHook,
    EventKind,
    Journal,
    JournalEvent,
    JournalWriter,
    verify_journal,
)
from ebr.line_codes import batch_status, code_info, unpacked_codes
from gateway.alarms.catalog import RUNTIME_ALARMS
from gateway.alarms.manager import AlarmManager, AlarmTransition
from gateway.line.buffer import LineCodeBuffer
from gateway.line.case_camera import CaseCameraStation
from gateway.line.challenge import rendered_challenge
from gateway.line.clearance import ClearanceSigner
from gateway.line.ebr_specimen import shown_path, write_evidence
from gateway.line.frames import FrameRouter
from gateway.line.labels import LabelStation
from gateway.line.packing import PackedContainer, PackingStation
from gateway.line.pipeline import Alarm, UnitPipeline, UnitTrack, VerdictObserver, first_line
from gateway.line.plc import LinePlc, PlcEvent, PlcEventKind
from gateway.line.reconciler import LiveReconciler
from gateway.line.recovery import (
    RestartRecovery,
    ledger_from_store,
    record_restart,
    settle_last_accepts,
    void_unconfirmed,
)
from gateway.line.rework import ReworkStation
from gateway.line.supervisor import LineSupervisor
from gateway.loop_lag import LoopLagProbe
from gateway.site_store import SiteStore
from serialization.lifecycle import BatchPhase, ChallengePolicy
from serialization.recognize import RecognitionContext, recognize
from serialization.reconciliation import Reconciliation
from serialization.rules import PackagingLevel

log = logging.getLogger("tracegate.line")

PACKING_SETTLE_S = 15.0
REJECT_MISSED_STOP = "line stopped: a reject was not confirmed by the bin sensor"
JOURNAL_FAILURE_STOP = "line stopped: production records cannot be written"
"""At batch end, how long the case and pallet signals already received may take to finish
(contents frame, label attempts) before the partial pallet is closed without them."""
RESUMED_PHASES = (
    BatchPhase.RUNNING,
    BatchPhase.HELD,
    BatchPhase.CHALLENGE,
    BatchPhase.COMPLETING,
)
"""A batch found in one of these at start was in production when the last gateway stopped."""
GIL_SWITCH_INTERVAL_S = 0.0005
"""The loop, the vision worker and the journal's commit thread hand the GIL to each other on
every unit; with Python's default 5 ms interval a thread done with its C work (a decode, an
fsync) can wait that long for the GIL, and the verdict with it."""


@dataclass
class LevelDevices:
    """The camera and label printer of one packing level (case, pallet); labels are printed
    and verified when both are there."""

    camera: Camera | None = None
    printer: Printer | None = None
    job: str = ""
    fields: tuple[str, ...] = ()


@dataclass
class LineDevices:
    plc: LinePlc
    printer: Printer
    printer_job: str
    printer_fields: tuple[str, ...]
    camera: Camera
    levels: dict[str, LevelDevices] = field(default_factory=dict)
    """The case and pallet devices the line has, by level ("case", "pallet")."""


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
        journal_hook: CommitHook | None = None,
        verdicts: VerdictObserver | None = None,
    ) -> None:
        """`journal_hook` writes what journal entries cause upward (the uplinks' outbox) in
        the same transaction as the entries; `verdicts` is told of every unit's verdict (the
        metrics)."""
        self.store = store
        self.line = line
        self.batch_id = batch_id
        self.devices = devices
        self.settings = line.runtime
        self.alarms = alarms or AlarmManager(definitions=RUNTIME_ALARMS)
        self.vision_settings = vision_settings or VisionSettings()
        self.journal = JournalWriter(
            Journal(store.engine, audit=store.audit, anchor_every_s=1.0, hook=journal_hook),
            window_s=0.0,
        )
        self._verdicts = verdicts
        self._tasks: list[asyncio.Task[None]] = []
        self._stack = contextlib.AsyncExitStack()
        self.voided_at_start: list[str] = []
        self.restart: RestartRecovery | None = None
        """What the start settled when the batch was already in production (a restart)."""
        self.voided_at_end: list[str] = []
        self.final: Reconciliation | None = None
        self.started_at = time.monotonic()
        self._closing = False
        self._issue_limit: int | None = None
        self._signals: dict[str, set[int]] = {"case": set(), "pallet": set()}
        """Case and pallet numbers already handled: a repeated PLC signal packs nothing."""
        self._case_tasks: list[asyncio.Task[None]] = []
        """Case signals being handled: a pallet signal waits for the cases before it."""
        self._packing_tasks: set[asyncio.Task[None]] = set()
        self._emptying = False
        """The line is being stopped to complete the batch: a case may be the partial one."""
        self.case_camera: CaseCameraStation | None = None
        self.not_in_a_case: list[str] = []
        """case-camera mode: accepted units no case camera frame showed by the batch's end."""
        self.stopped_by: str | None = None
        """Why an alarm stopped the line (a missed reject, production records not writable);
        no unit gets a code after it."""
        self._challenges = 0
        self.frame_taps: list[Callable[[Frame | SmartResult], None]] = []
        """Also shown each unit camera frame (the batch record's set-up specimen); keep short."""
        self.accept_taps: list[Callable[[UnitTrack], None]] = []
        """Also told of each accepted unit."""

    # --- lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> LineRuntime:
        try:
            await self._open()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        tasks = [*self._tasks, *self._packing_tasks]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.pipeline.close()
        await self._stack.aclose()

    async def _open(self) -> None:
        sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_INTERVAL_S))
        case_level = self.devices.levels.get("case", LevelDevices())
        if self.settings.case_mode == "case-camera" and case_level.camera is None:
            raise UsageError(
                f"line {self.line.id}: case_mode case-camera needs a device with role "
                "case-camera, and the line has none",
                hint="add the case camera to the line's devices, or use case_mode: plc-count",
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
            producing=self._producing,
            on_accepted=self._accepted,
            on_reject_missed=self._reject_missed,
            observer=self._verdicts,
        )
        self.pipeline.ledger = ledger
        self.frames = {
            level: FrameRouter(devices.camera)
            for level, devices in self.devices.levels.items()
            if devices.camera is not None
        }
        for router in self.frames.values():
            self._spawn(router.run())
        self.cases = self._station(
            "case", allocator, self._case_capacity(), labeller=await self._labels("case")
        )
        self.pallets = self._station(
            "pallet", allocator, self._pallet_capacity(), labeller=await self._labels("pallet")
        )
        if self.settings.case_mode == "case-camera":
            self.case_camera = CaseCameraStation(
                cases=self.cases,
                frames=self.frames["case"],
                verifier=Verifier(
                    context.rule, context.product, context.lot_data, settings=self.vision_settings
                ),
                ledger=lambda: self.pipeline.ledger,
                owners=self._owners,
                on_refused=self._case_refused,
                timeout_s=self.settings.case_contents_timeout_s,
            )
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
            on_packed=self._packed_by_hand,
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
        self.alarms.subscribe(self._stop_on_journal_failure)
        resumed = self.supervisor.phase in RESUMED_PHASES
        await self.supervisor.restarted()
        if resumed or self.voided_at_start or self.revoked_at_start:
            self.restart = await record_restart(
                engine,
                self.journal,
                batch_id=self.batch_id,
                voided=self.voided_at_start,
                revoked=self.revoked_at_start,
            )
            if not self.restart.journal_verified:
                self._raise(Alarm.JOURNAL_FAILURE, "journal", self.restart.describe())
            if not self.restart.audit_verified:
                self._raise(Alarm.AUDIT_TRAIL_BROKEN, "audit", self.restart.describe())
        plc = self.devices.plc
        self.supervisor.plc_state = await plc.retry_while_down(plc.packml_state)
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

    async def _labels(self, level: str) -> LabelStation | None:
        """The level's label station, when the line has its printer and camera and the
        product has a coding rule for the level."""
        devices = self.devices.levels.get(level)
        packaging = PackagingLevel(level)
        if devices is None or devices.printer is None or packaging not in self._levels():
            return None
        with self.store.engine.connect() as conn:
            batch = load_batch_context(conn, self.batch_id, packaging)
        verifier = Verifier(
            batch.rule, batch.product, batch.lot_data, settings=self.vision_settings
        )
        await devices.printer.load_job(devices.job, devices.fields)
        station = LabelStation(devices.printer, len(devices.fields), self.frames[level], verifier)
        self._spawn(station.watch_reports())
        return station

    def _station(
        self,
        level: str,
        allocator: CodeAllocator,
        capacity: int,
        *,
        labeller: LabelStation | None = None,
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
            remember_where_packed=level == "case" and self.settings.case_mode == "case-camera",
        )

    # --- operator actions used by the demo and tests -----------------------------------------

    async def prepare(self, actor: Actor, signer: ClearanceSigner | None = None) -> None:
        """Line clearance (e-signed with `signer`), the vision challenge and the start, as one
        operator would do them."""
        for station in (self.cases, self.pallets):
            if station.buffer is not None:
                await station.buffer.fill()
        await self.buffer.fill()
        if self.supervisor.phase in (BatchPhase.DOWNLOADED, BatchPhase.CLEARANCE):
            await self.supervisor.clearance(actor, self.supervisor.checklist, signer)
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
        self._challenges += 1
        folder = self.store.config.base_dir / self.line.ebr.evidence_dir
        outcomes = []
        for number, o in enumerate(record.outcomes, start=1):
            name = f"batch-{self.batch_id}-challenge-{self._challenges}-{number}-{o.kind.value}.png"
            path = await asyncio.to_thread(write_evidence, folder, name, o.image_png)
            outcomes.append(
                {
                    "kind": o.kind.value,
                    "passed": o.passed,
                    "reason": str(o.result.reason),
                    "image_file": shown_path(path, self.store.config.base_dir),
                    "image_sha256": hashlib.sha256(o.image_png).hexdigest(),
                }
            )
        summary = {"passed": record.passed, "outcomes": outcomes}
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
        self._issue_limit = units
        while len(self.pipeline.ledger.issued) < units:
            if self.stopped_by is not None:
                ended_early = self.stopped_by
                break
            if deadline is not None and time.monotonic() > deadline:
                ended_early = f"{units} units not reached within {timeout:g} s"
                break
            if self.supervisor.phase is BatchPhase.CHALLENGE:
                if not await self.challenge(actor):
                    ended_early = "the vision challenge failed: " + "; ".join(
                        self.supervisor.challenge_reasons
                    )
                    break
                await self.supervisor.start(actor)
            if self.supervisor.phase is BatchPhase.HELD:
                await self.supervisor.start(actor)
            await asyncio.sleep(0.05)
        await self.finish(actor)
        return ended_early

    def _producing(self) -> bool:
        """Whether a unit triggered now gets a code: the batch running, not closing, and the
        quantity asked of `run_units` not yet issued (a unit past it is rejected uncoded)."""
        if not self.supervisor.producing or self._closing or self.stopped_by is not None:
            return False
        return self._issue_limit is None or len(self.pipeline.ledger.issued) < self._issue_limit

    async def finish(self, actor: Actor) -> Reconciliation | None:
        """Complete the batch: run out the conveyor, close the partial case and pallet, void the
        unused codes, reconcile, verify the journal."""
        self._closing = True
        await self.pipeline.drain(self.settings.verdict_deadline_ms / 1000 + 1)
        await asyncio.sleep(self.settings.reject_confirm_ms / 1000)
        self.pipeline.line_stopping()
        self._emptying = True
        with contextlib.suppress(DriverError):
            await self.devices.plc.command("Stop")
        if self.supervisor.phase in (BatchPhase.RUNNING, BatchPhase.HELD):
            await self.supervisor.complete(actor)
        if self.case_camera is not None:
            await self._last_case_read()
        else:
            await self._settle_packing()
            await self.cases.complete(
                self.cases.counts.cases + self.cases.counts.partial_cases + 1, partial=True
            )
        await self._settle_packing()
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

    async def _last_case_read(self) -> None:
        """case-camera mode at batch end: the case packer closes its partial case when the line
        stops and the case camera reads it like any other. Wait for it (at most the contents
        timeout); accepted units still unseen then stay unpacked and are reported."""
        signals = len(self._signals["case"])
        deadline = time.monotonic() + self.settings.case_contents_timeout_s + 1
        while self.cases.waiting and time.monotonic() < deadline:
            if len(self._signals["case"]) > signals and not self._case_tasks:
                break
            await asyncio.sleep(0.05)
        await self._settle_packing()
        self.not_in_a_case = list(self.cases.waiting)
        if self.not_in_a_case:
            shown = ", ".join(self.not_in_a_case[:12])
            self.alarms.activate(
                "CASE_CONTENTS_MISMATCH",
                "batch end",
                f"{len(self.not_in_a_case)} accepted units were read in no case: {shown}; "
                "find them and aggregate them at the rework station",
            )

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
                self._case_tasks.append(self._packing(self._case(event.number)))
            case PlcEventKind.PALLET:
                self._packing(self._pallet(event.number, list(self._case_tasks)))
            case PlcEventKind.STATE:
                state = await self.devices.plc.packml_state()
                await self.supervisor.plc_state_changed(state)
            case PlcEventKind.CHANGEOVER:
                kind, _, name = event.text.partition(" ")
                await self.supervisor.changeover(kind, name)

    def _packing(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """A case or pallet signal's task, remembered until done."""
        task = asyncio.get_running_loop().create_task(work)
        self._packing_tasks.add(task)
        task.add_done_callback(self._packing_tasks.discard)
        task.add_done_callback(self._forget_case_task)
        task.add_done_callback(self._packing_failed)
        return task

    def _packing_failed(self, task: asyncio.Task[None]) -> None:
        error = None if task.cancelled() else task.exception()
        if error is None:
            return
        log.error("a case or pallet signal failed: %s", error, exc_info=error)
        self._raise(Alarm.DEVICE_FAULT, "packing", first_line(error))

    def _forget_case_task(self, task: asyncio.Task[None]) -> None:
        with contextlib.suppress(ValueError):
            self._case_tasks.remove(task)

    async def _settle_packing(self) -> None:
        """Let the case and pallet signals received so far finish (labels, contents)."""
        pending = [task for task in self._packing_tasks if not task.done()]
        if pending:
            await asyncio.wait(pending, timeout=PACKING_SETTLE_S)

    def _first_signal(self, level: str, number: int) -> bool:
        handled = self._signals[level]
        if number in handled:
            return False
        handled.add(number)
        return True

    async def _case(self, number: int) -> None:
        if not self._first_signal("case", number):
            return
        if self.case_camera is not None:
            await self.case_camera.case_closed(number, batch_end=self._emptying)
        else:
            await self.cases.complete(number)

    async def _pallet(self, number: int, cases_before: list[asyncio.Task[None]]) -> None:
        """A pallet takes the cases recorded before its signal, so it waits for them."""
        if cases_before:
            await asyncio.wait(list(cases_before))
        if self._first_signal("pallet", number):
            await self.pallets.complete(number)

    async def _owners(self, codes: Sequence[ContentsCode]) -> dict[str, str]:
        """Where codes read in a case belong when they are no unit code of this batch on this
        line, by their data; a code of another batch also raises FOREIGN_CODE."""
        owners: dict[str, str] = {}
        for code in codes:
            reading = recognize(code.symbology_id + code.data, self.rework.context).best
            key = code.key or (reading.code.key if reading is not None else None)
            if key is None:
                continue
            info = await asyncio.to_thread(code_info, self.store.engine, key)
            if info is None:
                owners[code.data] = "never issued by this site"
            elif info.batch_id != self.batch_id:
                owners[code.data] = f"a code of batch {info.batch_id}"
                self.alarms.activate(
                    "FOREIGN_CODE",
                    "case-camera",
                    f"code {key} of batch {info.batch_id} read in a case of batch {self.batch_id}",
                )
            else:
                owners[code.data] = (
                    f"a {info.level} code of this batch, not a unit"
                    if info.level and info.level != "unit"
                    else "a unit code of this batch not issued on this line"
                )
        return owners

    def _case_refused(self, number: int, detail: str) -> None:
        self.alarms.activate("CASE_CONTENTS_MISMATCH", f"case {number}", detail)

    async def _images(self) -> None:
        async for result in self.devices.camera.results():
            self.pipeline.on_image(result)
            for tap in self.frame_taps:
                tap(result)

    async def _print_reports(self) -> None:
        async for report in self.devices.printer.reports():
            if report.outcome is PrintOutcome.REFUSED:
                self.pipeline.on_print_refused(report.unit_ref, report.reason)

    def _accepted(self, track: UnitTrack) -> None:
        if track.code is not None:
            self.cases.add(track.code.key)
        for tap in self.accept_taps:
            tap(track)

    def _decommissioned(self, key: str, destroyed: bool) -> None:
        ledger = self.pipeline.ledger
        if destroyed:
            ledger.destroy(key)
        else:
            ledger.sample(key)
        self.cases.withdraw(key)

    def _packed_by_hand(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.cases.withdraw(key)

    def _packed(self, container: PackedContainer) -> None:
        if container.level == "case":
            self.pallets.add(container.code.key)

    async def _reject_missed(self, track: UnitTrack) -> None:
        self.stopped_by = self.stopped_by or REJECT_MISSED_STOP
        with contextlib.suppress(DriverError):
            await self.supervisor.stop_line(f"reject of unit {track.ref} not confirmed")

    def _stop_on_journal_failure(self, transition: AlarmTransition) -> None:
        """Production records cannot be written (a full disk, a database gone read-only): stop
        the line rather than print codes for units that can only be rejected."""
        if transition.alarm_id != Alarm.JOURNAL_FAILURE or self.stopped_by is not None:
            return
        if not transition.condition_active:
            return
        self.stopped_by = f"{JOURNAL_FAILURE_STOP}: {transition.detail}"
        self._spawn(self._stop_line(self.stopped_by))

    async def _stop_line(self, reason: str) -> None:
        try:
            await self.supervisor.stop_line(reason)
        except Exception as error:
            log.error("stopping the line (%s): %s", reason, error)

    async def until_stopped(self, stop: asyncio.Event) -> str | None:
        """Produce until `stop` is set (None) or an alarm stops the line (why)."""
        while not stop.is_set() and self.stopped_by is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.1)
        return self.stopped_by

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
        written = self.journal.submit(
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
        written.add_done_callback(_alarm_note_written)

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
            "pallet_labels_scrapped": self.pallets.labels_scrapped,
            "case_mode": self.settings.case_mode,
            "cases_refused": len(self.case_camera.refused) if self.case_camera else 0,
            "units_not_in_a_case": len(self.not_in_a_case),
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


def _alarm_note_written(future: asyncio.Future[Any]) -> None:
    """An alarm's note the journal could not take: the alarm itself stands and is logged."""
    if future.cancelled():
        return
    error = future.exception()
    if error is not None:
        log.warning("alarm note not journalled: %s", first_line(error))
