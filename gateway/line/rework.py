"""Manual aggregation, rework, QA sampling and destruction with the handheld scanner.

Every operation is one journal event; the journal enforces the aggregation rules (a child has
one parent, same product and batch, only commissioned units are packed) and this station
checks the scanned codes first so the operator gets a clear message: an unknown code, a code of
another batch (alarm `FOREIGN_CODE`), a unit not in that case. Each event names the user.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum

from sqlalchemy import Engine

from ebr.audit.actor import Actor
from ebr.journal import EventKind, JournalEvent, JournalRejectedError, JournalWriter
from ebr.line_codes import CodeInfo, code_info
from gateway.line.buffer import LineCodeBuffer
from serialization.recognize import RecognitionContext, recognize


class Reason(StrEnum):
    """Why a code leaves saleable stock."""

    DAMAGED = "damaged"
    SAMPLED = "sampled"
    DESTROYED = "destroyed"
    RECALLED = "recalled"
    EXPIRED = "expired"
    REPACKAGED = "repackaged"


class ReworkError(Exception):
    """An operation the station refuses; `hint` tells the operator what to do."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message + (f" ({self.hint})" if self.hint else "")


class ForeignCodeError(ReworkError):
    """The scanned code belongs to another batch."""


class ReworkStation:
    def __init__(
        self,
        engine: Engine,
        journal: JournalWriter,
        *,
        batch_id: int,
        case_buffer: LineCodeBuffer | None,
        on_foreign: Callable[[str], object],
        on_decommissioned: Callable[[str, bool], None] | None = None,
        on_packed: Callable[[Sequence[str]], None] | None = None,
        context: RecognitionContext | None = None,
    ) -> None:
        """`on_decommissioned(key, destroyed)`: a unit left saleable stock (sampled or
        destroyed), so the runtime's ledger and waiting cases can follow; `on_packed(keys)`:
        units were packed by hand, so no automatic case waits for them any more."""
        self._engine = engine
        self.journal = journal
        self.batch_id = batch_id
        self.case_buffer = case_buffer
        self.on_foreign = on_foreign
        self.on_decommissioned = on_decommissioned
        self.on_packed = on_packed
        self.context = context or RecognitionContext()

    def identify(self, scanned: str) -> CodeInfo:
        """The code behind a scan (AIM prefix, element string, HRI or Digital Link)."""
        reading = recognize(scanned, self.context).best
        if reading is None:
            raise ReworkError(
                f"{scanned!r} is not a code this site can read",
                hint="scan the code's symbol, not a text or another barcode on the pack",
            )
        info = code_info(self._engine, reading.code.key)
        if info is None:
            raise ReworkError(
                f"code {reading.code.key} was never issued by this site",
                hint="set the pack aside for QA: it may be counterfeit",
            )
        if info.batch_id != self.batch_id:
            self.on_foreign(
                f"code {info.key} of batch {info.batch_id} scanned on batch {self.batch_id}"
            )
            raise ForeignCodeError(
                f"code {info.key} belongs to batch {info.batch_id}, not to batch {self.batch_id}",
                hint="remove the pack from this line and hand it to QA",
            )
        return info

    async def add_child(self, parent: str, child: str, actor: Actor) -> None:
        case, unit = self.identify(parent), self.identify(child)
        await self._write(EventKind.CHILD_ADDED, case.key, actor, child=unit.key)
        if self.on_packed is not None:
            self.on_packed([unit.key])

    async def remove_child(self, parent: str, child: str, actor: Actor) -> None:
        case, unit = self.identify(parent), self.identify(child)
        if unit.parent_key != case.key:
            raise ReworkError(
                f"unit {unit.key} is not in case {case.key}"
                + (f" but in {unit.parent_key}" if unit.parent_key else ""),
                hint="scan the case the unit was taken from",
            )
        await self._write(EventKind.CHILD_REMOVED, case.key, actor, child=unit.key)

    async def unpack(self, parent: str, actor: Actor, reason: str) -> None:
        case = self.identify(parent)
        await self._write(EventKind.UNPACKED, case.key, actor, reason=reason)

    async def replace_label(self, old_parent: str, actor: Actor, reason: Reason) -> str:
        """A new case code for a damaged label; the children move to it. Returns its key."""
        old = self.identify(old_parent)
        code = self._next_case_code()
        await self._write(EventKind.LABEL_REPLACED, code, actor, old=old.key, reason=reason.value)
        return code

    async def reaggregate(self, children: Sequence[str], actor: Actor) -> str:
        """Pack the scanned units into a new case; returns the case's key."""
        if not children:
            raise ReworkError("no units scanned", hint="scan the units of the new case")
        keys = [self.identify(child).key for child in children]
        code = self._next_case_code()
        await self._write(EventKind.AGGREGATED, code, actor, children=keys, level="case")
        if self.on_packed is not None:
            self.on_packed(keys)
        return code

    async def sample(self, scanned: str, actor: Actor, *, destructive: bool, reason: str) -> None:
        unit = self.identify(scanned)
        await self._write(
            EventKind.UNIT_SAMPLED, unit.key, actor, destructive=destructive, reason=reason
        )
        if destructive and self.on_decommissioned is not None:
            self.on_decommissioned(unit.key, False)

    async def destroy(self, scanned: str, actor: Actor, reason: Reason) -> None:
        unit = self.identify(scanned)
        await self._write(EventKind.UNIT_DESTROYED, unit.key, actor, reason=reason.value)
        if self.on_decommissioned is not None:
            self.on_decommissioned(unit.key, True)

    def _next_case_code(self) -> str:
        code = self.case_buffer.take() if self.case_buffer is not None else None
        if code is None:
            raise ReworkError(
                "no case code ready", hint="wait a moment and scan again, or call the engineer"
            )
        return code.key

    async def _write(self, kind: EventKind, key: str, actor: Actor, **data: object) -> None:
        if actor.user_id is None:
            raise ReworkError("rework is done by a named user", hint="log in and try again")
        event = JournalEvent(
            self.batch_id, kind, code_key=key, data={**data, "user": actor.username}
        )
        try:
            await self.journal.append(event)
        except JournalRejectedError as error:
            raise ReworkError(str(error), hint=getattr(error, "hint", None)) from error
