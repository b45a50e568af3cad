"""The batch on the line: its lifecycle, the operator's actions on it, and the PLC in step.

Downloaded → line clearance (checklist confirmed by a named user) → challenge (the vision
challenge must pass) → Running ⇄ Held → Completing → Reconciled. Each change is journalled
(which sets `batches.status`) and written to the audit trail against the user who made it.
The PLC's PackML state is mirrored: a PLC that leaves Execute while the batch runs holds the
batch, and a stop longer than `challenge_after_stop_s`, a format or material changeover
announced by the PLC, or a gateway restart requires a new challenge.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Engine

from drivers.line_plc.protocol import PackMLState
from ebr.audit.actor import GATEWAY, Actor, trail_for
from ebr.audit.trail import AuditTrail
from ebr.journal import EventKind, JournalEntry, JournalEvent, JournalWriter
from ebr.users import UserError
from gateway.line.clearance import ClearanceSigner
from gateway.line.plc import LinePlc
from serialization.lifecycle import (
    BatchAction,
    BatchLifecycle,
    BatchPhase,
    ChallengePolicy,
    ChallengeRequirement,
)

EXECUTE = PackMLState.EXECUTE
STOPPED_STATES = frozenset({PackMLState.STOPPED, PackMLState.ABORTED})
IDLE = PackMLState.IDLE
HELD_STATES = frozenset({PackMLState.HOLDING, PackMLState.HELD})


class LineActionError(RuntimeError):
    """An operator action that cannot be done now; `hint` says what to do instead."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def _phase_of(status: str) -> BatchPhase:
    try:
        return BatchPhase(status)
    except ValueError:
        return BatchPhase.DOWNLOADED


class LineSupervisor:
    def __init__(
        self,
        *,
        engine: Engine,
        audit: AuditTrail | None,
        batch_id: int,
        status: str,
        journal: JournalWriter,
        plc: LinePlc,
        policy: ChallengePolicy,
        checklist: Sequence[str],
        on_phase: Callable[[BatchPhase], None] | None = None,
    ) -> None:
        self._engine = engine
        self._audit = audit
        self.batch_id = batch_id
        self.lifecycle = BatchLifecycle(_phase_of(status))
        self.journal = journal
        self.plc = plc
        self.policy = policy
        self.checklist = tuple(checklist)
        self.on_phase = on_phase
        self.plc_state: int | None = None
        self._stopped_at: float | None = None
        self._lock = asyncio.Lock()

    @property
    def phase(self) -> BatchPhase:
        return self.lifecycle.phase

    @property
    def producing(self) -> bool:
        return self.lifecycle.may_produce and self.plc_state == EXECUTE

    @property
    def challenge_reasons(self) -> tuple[str, ...]:
        return self.lifecycle.pending.reasons

    # --- what happened to the line ---------------------------------------------------------

    async def restarted(self) -> None:
        """The gateway came back while the batch was in production: a new challenge is due."""
        if self.phase in (BatchPhase.RUNNING, BatchPhase.HELD, BatchPhase.CHALLENGE):
            await self._require(self.policy.required(gateway_restarted=True), GATEWAY)

    async def changeover(self, kind: str, name: str, actor: Actor = GATEWAY) -> None:
        """A new format or material on the line: what the camera sees may have changed, so
        production waits for a new challenge; a line still in Execute is held meanwhile."""
        material = kind == "material"
        requirement = self.policy.required(format_changed=not material, material_changed=material)
        await self._note("changeover", actor, {"kind": kind, "name": name})
        was_running = self.phase is BatchPhase.RUNNING
        await self._require(requirement, actor)
        if was_running and self.plc_state == EXECUTE:
            await self.plc.command("Hold")

    async def plc_state_changed(self, state: int) -> None:
        before, self.plc_state = self.plc_state, state
        if state != EXECUTE and before == EXECUTE:
            self._stopped_at = time.monotonic()
            if self.phase is BatchPhase.RUNNING and state not in (IDLE,):
                await self._apply(BatchAction.HOLD, GATEWAY, f"PLC state {state}")
        if state == EXECUTE and self._stopped_at is not None:
            stop_s = time.monotonic() - self._stopped_at
            self._stopped_at = None
            await self._require(self.policy.required(stop_s=stop_s), GATEWAY)

    # --- operator actions ------------------------------------------------------------------

    async def clearance(
        self, actor: Actor, confirmed: Sequence[str], signer: ClearanceSigner | None = None
    ) -> None:
        """Line clearance: every checklist item confirmed by the named user, and with `signer`
        the journal entry recording it e-signed before the batch may go on to its challenge."""
        self._need_user(actor, "line clearance")
        missing = [item for item in self.checklist if item not in confirmed]
        if missing:
            raise LineActionError(
                f"line clearance incomplete: not confirmed: {'; '.join(missing)}",
                hint="confirm every checklist item, or fix the line first",
            )
        if self.phase is BatchPhase.DOWNLOADED:
            await self._apply(BatchAction.BEGIN_CLEARANCE, actor, "line clearance started")
        entry = await self._note(
            "clearance", actor, {"checklist": list(self.checklist), "signed": signer is not None}
        )
        if signer is not None:
            try:
                await asyncio.to_thread(signer, self.batch_id, entry.seq)
            except UserError as error:
                raise LineActionError(
                    f"line clearance not signed: {error.message}",
                    hint=error.hint or "sign with your own password",
                ) from error
        await self._apply(BatchAction.CLEARANCE_SIGNED, actor, "line clearance confirmed")

    async def challenge_done(self, actor: Actor, passed: bool, record: dict[str, Any]) -> None:
        await self._note("challenge", actor, {"passed": passed, "record": record})
        action = BatchAction.CHALLENGE_PASSED if passed else BatchAction.CHALLENGE_FAILED
        await self._apply(action, actor, "vision challenge " + ("passed" if passed else "failed"))
        if passed and self._stopped_at is not None:
            self._stopped_at = time.monotonic()

    async def start(self, actor: Actor, timeout: float = 10.0) -> None:
        """Bring the PLC to Execute (Reset, Start) once the batch may run."""
        self._need_user(actor, "start")
        if self.phase is BatchPhase.HELD:
            await self._apply(BatchAction.RESUME, actor, "resumed")
        if self.phase is not BatchPhase.RUNNING:
            raise LineActionError(
                f"batch {self.batch_id} is {self.phase.value}, it cannot run",
                hint="do the line clearance and pass the vision challenge first"
                if self.phase is not BatchPhase.CHALLENGE
                else "pass the vision challenge first",
            )
        await self._plc_to_execute(timeout)

    async def hold(self, actor: Actor, reason: str) -> None:
        self._need_user(actor, "hold")
        await self.plc.command("Hold")
        if self.phase is BatchPhase.RUNNING:
            await self._apply(BatchAction.HOLD, actor, reason)

    async def complete(self, actor: Actor) -> None:
        await self._apply(BatchAction.COMPLETE, actor, "batch completed")

    async def reconciled(self, actor: Actor, summary: dict[str, Any]) -> None:
        await self._note("reconciliation", actor, summary)
        await self._apply(BatchAction.RECONCILED, actor, "batch reconciled")

    async def stop_line(self, reason: str) -> None:
        """Stop the PLC (a missed reject: a unit that should be in the bin may be in a case)."""
        await self.plc.command("Stop")
        if self.phase is BatchPhase.RUNNING:
            await self._apply(BatchAction.HOLD, GATEWAY, reason)

    # --- plumbing ----------------------------------------------------------------------------

    async def _plc_to_execute(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        state = await self.plc.retry_while_down(self.plc.packml_state)
        while state != EXECUTE:
            if time.monotonic() > deadline:
                raise LineActionError(
                    f"the PLC did not reach Execute within {timeout:g} s (state {state})",
                    hint="check the PLC for faults; it must accept Reset and Start",
                )
            command = _command_towards_execute(state)
            if command is not None:
                await self.plc.retry_while_down(functools.partial(self.plc.command, command))
            await asyncio.sleep(0.05)
            state = await self.plc.retry_while_down(self.plc.packml_state)
        self.plc_state = state

    def _need_user(self, actor: Actor, what: str) -> None:
        if actor.user_id is None:
            raise LineActionError(
                f"{what} must be done by a named user", hint="log in and try again"
            )

    async def _require(self, requirement: ChallengeRequirement, actor: Actor) -> None:
        if not requirement.required:
            return
        async with self._lock:
            before = self.lifecycle
            self.lifecycle = before.require(requirement)
            await self._note("challenge_required", actor, {"reasons": list(requirement.reasons)})
            if self.lifecycle.phase is not before.phase:
                await self._record_phase(before, actor, "; ".join(requirement.reasons))

    async def _apply(self, action: BatchAction, actor: Actor, reason: str) -> None:
        async with self._lock:
            before = self.lifecycle
            self.lifecycle = before.apply(action, batch=str(self.batch_id))
            await self._record_phase(before, actor, reason)

    async def _record_phase(self, was: BatchLifecycle, actor: Actor, reason: str) -> None:
        """Journal the phase change; one the journal did not take did not happen (the phase
        goes back), so the batch's phase in memory is never ahead of its record."""
        before, after = was.phase, self.lifecycle.phase
        try:
            await self.journal.append(
                JournalEvent(
                    self.batch_id,
                    EventKind.BATCH_PHASE,
                    data={
                        "from": before.value,
                        "to": after.value,
                        "user": actor.username,
                        "reason": reason,
                    },
                )
            )
        except Exception:
            self.lifecycle = was
            raise
        await asyncio.to_thread(self._audit_phase, before, after, actor, reason)
        if self.on_phase is not None:
            self.on_phase(after)

    def _audit_phase(
        self, before: BatchPhase, after: BatchPhase, actor: Actor, reason: str
    ) -> None:
        with self._engine.begin() as conn:
            trail_for(self._engine, self._audit).record(
                conn,
                [
                    actor.event(
                        "batch.phase",
                        "batch",
                        self.batch_id,
                        action="modify",
                        old={"status": before.value},
                        new={"status": after.value},
                        reason=reason,
                    )
                ],
            )

    async def _note(self, topic: str, actor: Actor, data: dict[str, Any]) -> JournalEntry:
        return await self.journal.append(
            JournalEvent(
                self.batch_id,
                EventKind.NOTE,
                data={"topic": topic, "user": actor.username, **data},
            )
        )


def _command_towards_execute(state: int) -> str | None:
    """The PackML command that moves the PLC from `state` towards Execute; None while it is
    on its way by itself (a transitional state)."""
    if state in STOPPED_STATES:
        return "Reset" if state == PackMLState.STOPPED else "Clear"
    if state == IDLE:
        return "Start"
    if state in HELD_STATES:
        return "Unhold"
    return None
