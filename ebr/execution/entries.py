"""Entries: one row per recorded value of a batch, by section, never updated.

A correction is a new entry naming the one it supersedes, with a reason, audited as a `modify`
of the original (which review collects as a `data_changed` exception). A value outside its
limits is handled by where it came from: a person's (manual) value is refused unless it comes
with a reason and a second person's signature (`Meaning.VERIFIED`); a tag's or the line's is
recorded as read and opens a deviation. Either raises an `out_of_limit` exception.

The entry is written, then the verifier signs it (the entry never changes, so the signature
holds); the verifier's checks and password are verified before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from ebr.audit.actor import Actor
from ebr.errors import NotFoundError
from ebr.execution.context import Context, Who, actor_of
from ebr.execution.deviations import open_in
from ebr.execution.errors import ExecutionError, VerificationRequiredError
from ebr.execution.exceptions import raise_in
from ebr.execution.kinds import ExceptionKind, Severity, Source
from ebr.execution.models import EntryRow
from ebr.execution.signing import (
    ENTRY_OBJECT,
    VALUE_VERIFICATION_ACTION,
    SignatureRequest,
    sign,
    signer_ready,
)
from ebr.execution.steps import Steps, batch_status
from ebr.execution.values import Number, decimal_text, stored, within
from ebr.signatures import Meaning
from ebr.sql import insert_returning_id
from ebr.users import BUSINESS_ROLES

InTransaction = Callable[[Connection, int], None]
"""More to write in the entry's transaction, given the new entry's id."""


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    batch_id: int
    section: str
    name: str
    value: Any
    unit: str | None
    low: str | None
    high: str | None
    in_limits: bool | None
    source: Source
    recorded_at: datetime
    recorded_by: str | None
    recorded_by_user_id: int | None
    reason: str | None
    evidence: Any
    supersedes: int | None
    superseded_by: int | None
    """The correction that replaced this entry, if one did."""

    @property
    def current(self) -> bool:
        return self.superseded_by is None


@dataclass(frozen=True, slots=True)
class NewEntry:
    """A value to record, as given to `Entries.record`."""

    batch_id: int
    section: str
    name: str
    value: Any
    source: Source | str
    by: Who
    unit: str | None = None
    low: Number | None = None
    high: Number | None = None
    reason: str | None = None
    evidence: Any = None
    supersedes: int | None = None
    verifier: SignatureRequest | None = None


class Entries:
    def __init__(self, ctx: Context, steps: Steps) -> None:
        self._ctx = ctx
        self._steps = steps

    def record(
        self,
        new: NewEntry,
        *,
        then: InTransaction | None = None,
        check_sequence: bool = True,
    ) -> int:
        """Record the value; returns the entry's id."""
        source = _source(new.source)
        actor = actor_of(new.by)
        where = f"batch {new.batch_id}, {new.section}/{new.name}"
        _check_names(new, source, actor, where)
        if check_sequence:
            self._steps.require_section(new.batch_id, new.section, new.by)
        original = self._original(new, where) if new.supersedes is not None else None
        unit, low, high = _limits(new, original, where)
        value = stored(new.value, where)
        in_limits = within(value, low, high, where)
        if original is not None and not (new.reason and new.reason.strip()):
            raise ExecutionError(
                f"{where}: correcting entry {original.id} needs a reason",
                hint="say why the recorded value is corrected",
            )
        if new.verifier is not None:
            self._verifier_ready(new, actor, where)
        elif source is Source.MANUAL and in_limits is False:
            raise VerificationRequiredError(
                f"{where}: manual value {value!r} is outside its limits "
                f"[{low or '-∞'}, {high or '+∞'}]",
                hint="record it with a reason and a second person's verifying signature, "
                "or check the value",
            )
        with self._ctx.writing() as conn:
            entry_id = self._write(conn, new, source, actor, value, unit, low, high, in_limits)
            if original is not None:
                self._audit_correction(conn, actor, original, entry_id, value, new.reason)
            if in_limits is False:
                self._out_of_limit(conn, new, source, actor, entry_id, value, low, high)
            if then is not None:
                then(conn, entry_id)
        if new.verifier is not None:
            sign(
                self._ctx,
                new.verifier,
                action=VALUE_VERIFICATION_ACTION,
                object_type=ENTRY_OBJECT,
                object_id=entry_id,
                meaning=Meaning.VERIFIED,
            )
        return entry_id

    def entries(self, batch_id: int, section: str | None = None) -> list[Entry]:
        with self._ctx.engine.connect() as conn:
            batch_status(conn, batch_id)
            return read_entries(conn, batch_id, section)

    def entry(self, entry_id: int) -> Entry:
        with self._ctx.engine.connect() as conn:
            row = conn.execute(select(EntryRow).where(EntryRow.id == entry_id)).first()
            if row is None:
                raise NotFoundError(
                    f"there is no entry {entry_id}", hint="list the batch's entries"
                )
            return _entry(row, _superseding(conn, row.batch_id).get(row.id))

    def _original(self, new: NewEntry, where: str) -> Entry:
        assert new.supersedes is not None
        original = self.entry(new.supersedes)
        if (original.batch_id, original.section, original.name) != (
            new.batch_id,
            new.section,
            new.name,
        ):
            raise ExecutionError(
                f"{where}: entry {original.id} is {original.section}/{original.name} of batch "
                f"{original.batch_id}, not the value being corrected",
                hint="a correction supersedes an entry of the same batch, section and name",
            )
        if original.superseded_by is not None:
            raise ExecutionError(
                f"{where}: entry {original.id} was already corrected by entry "
                f"{original.superseded_by}",
                hint=f"correct the current version, entry {original.superseded_by}",
            )
        return original

    def _verifier_ready(self, new: NewEntry, actor: Actor, where: str) -> None:
        assert new.verifier is not None
        if not (new.reason and new.reason.strip()):
            raise VerificationRequiredError(
                f"{where}: a verified value needs a reason",
                hint="say why the value is accepted (e.g. why it is outside its limits)",
            )
        if new.verifier.session.user_id == actor.user_id:
            raise VerificationRequiredError(
                f"{where}: {actor.username} cannot verify their own value",
                hint="the verifying signature must come from a second person",
            )
        signer_ready(
            self._ctx,
            new.verifier,
            roles=BUSINESS_ROLES,
            what="a value's verification",
            subject=(ENTRY_OBJECT, where),
        )

    def _write(
        self,
        conn: Connection,
        new: NewEntry,
        source: Source,
        actor: Actor,
        value: Any,
        unit: str | None,
        low: str | None,
        high: str | None,
        in_limits: bool | None,
    ) -> int:
        values = {
            "batch_id": new.batch_id,
            "section": new.section,
            "name": new.name,
            "value": value,
            "unit": unit,
            "low": low,
            "high": high,
            "in_limits": in_limits,
            "source": source.value,
            "recorded_at": self._ctx.now(),
            "recorded_by_user_id": actor.user_id,
            "recorded_by": actor.username,
            "reason": new.reason,
            "evidence": stored(new.evidence, "evidence") if new.evidence is not None else None,
            "supersedes": new.supersedes,
        }
        entry_id = insert_returning_id(conn, insert(EntryRow).values(**values))
        self._ctx.trail.record(
            conn,
            [
                actor.event(
                    "ebr.entry_recorded", ENTRY_OBJECT, entry_id, action="create", new=values
                )
            ],
        )
        return entry_id

    def _audit_correction(
        self,
        conn: Connection,
        actor: Actor,
        original: Entry,
        entry_id: int,
        value: Any,
        reason: str | None,
    ) -> None:
        self._ctx.trail.record(
            conn,
            [
                actor.event(
                    "ebr.entry_corrected",
                    ENTRY_OBJECT,
                    original.id,
                    action="modify",
                    old={"entry": original.id, "value": original.value},
                    new={"entry": entry_id, "value": value},
                    reason=reason,
                )
            ],
        )

    def _out_of_limit(
        self,
        conn: Connection,
        new: NewEntry,
        source: Source,
        actor: Actor,
        entry_id: int,
        value: Any,
        low: str | None,
        high: str | None,
    ) -> None:
        limits = f"[{low or '-∞'}, {high or '+∞'}]{' ' + new.unit if new.unit else ''}"
        subject = f"{new.section}/{new.name} = {value} outside {limits} ({source.value})"
        if source is not Source.MANUAL:
            deviation_id = open_in(
                conn,
                self._ctx,
                new.batch_id,
                severity=Severity.MAJOR,
                title=f"{new.name} outside its limits",
                description=f"entry {entry_id}: {subject}",
                reason=f"the {source.value} reported a value outside its limits",
                qms_reference=None,
                entry_id=entry_id,
                actor=actor,
                exception=False,
            )
            subject += f"; deviation {deviation_id} opened"
        raise_in(
            conn,
            self._ctx,
            new.batch_id,
            ExceptionKind.OUT_OF_LIMIT,
            Severity.MAJOR,
            subject,
            entry_id,
            actor,
        )


def read_entries(conn: Connection, batch_id: int, section: str | None = None) -> list[Entry]:
    query = select(EntryRow).where(EntryRow.batch_id == batch_id)
    if section is not None:
        query = query.where(EntryRow.section == section)
    superseding = _superseding(conn, batch_id)
    return [_entry(row, superseding.get(row.id)) for row in conn.execute(query.order_by("id"))]


def _superseding(conn: Connection, batch_id: int) -> dict[int, int]:
    """Superseded entry id → the id of the correction that replaced it."""
    rows = conn.execute(
        select(EntryRow.supersedes, EntryRow.id).where(
            EntryRow.batch_id == batch_id, EntryRow.supersedes.is_not(None)
        )
    )
    return {int(old): int(new) for old, new in rows if old is not None}


def _source(source: Source | str) -> Source:
    try:
        return Source(source)
    except ValueError:
        raise ExecutionError(
            f"there is no entry source {source!r}",
            hint=f"sources: {', '.join(s.value for s in Source)}",
        ) from None


def _check_names(new: NewEntry, source: Source, actor: Actor, where: str) -> None:
    if not new.name or not new.name.strip() or len(new.name) > 100:
        raise ExecutionError(
            f"batch {new.batch_id}, {new.section}: an entry needs a name of 1-100 characters",
            hint="name the value recorded (e.g. 'sealing temperature')",
        )
    if new.unit is not None and len(new.unit) > 20:
        raise ExecutionError(f"{where}: unit {new.unit!r} is longer than 20 characters")
    if source is Source.MANUAL and actor.user_id is None:
        raise ExecutionError(
            f"{where}: a manual value needs the person who entered it",
            hint="record it with the logged-in session of the person",
        )


def _limits(
    new: NewEntry, original: Entry | None, where: str
) -> tuple[str | None, str | None, str | None]:
    """Unit and limits as decimal text; a correction keeps the original's when given none."""
    low = None if new.low is None else decimal_text(new.low, f"{where}: low limit")
    high = None if new.high is None else decimal_text(new.high, f"{where}: high limit")
    unit = new.unit
    if original is not None:
        if low is None and high is None:
            low, high = original.low, original.high
        unit = unit if unit is not None else original.unit
    return unit, low, high


def _entry(row: Any, superseded_by: int | None) -> Entry:
    return Entry(
        row.id,
        row.batch_id,
        row.section,
        row.name,
        row.value,
        row.unit,
        row.low,
        row.high,
        row.in_limits,
        Source(row.source),
        row.recorded_at,
        row.recorded_by,
        row.recorded_by_user_id,
        row.reason,
        row.evidence,
        row.supersedes,
        superseded_by,
    )
