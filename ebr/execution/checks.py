"""In-process checks on a schedule: the line (or a person) schedules a check due at a time;
recording its value marks the earliest pending one of that name done, in the same transaction;
a check still pending once its due time and the grace period have passed is a `missed_check`
exception (one per check and due time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ebr.audit.actor import GATEWAY
from ebr.audit.chain import utc_text
from ebr.execution.context import Context, Who, actor_of
from ebr.execution.entries import Entries, NewEntry
from ebr.execution.errors import ExecutionError
from ebr.execution.exceptions import raise_in
from ebr.execution.kinds import ExceptionKind, Severity, Source
from ebr.execution.models import ScheduledCheckRow
from ebr.execution.signing import SignatureRequest
from ebr.execution.steps import batch_status
from ebr.execution.values import Limits
from ebr.sql import insert_returning_id

OBJECT = "ebr_check"
SECTION = "checks"


@dataclass(frozen=True, slots=True)
class ScheduledCheck:
    id: int
    batch_id: int
    name: str
    due_at: datetime
    entry_id: int | None
    """The recorded value that did the check, once done."""

    @property
    def done(self) -> bool:
        return self.entry_id is not None


class Checks:
    def __init__(self, ctx: Context, entries: Entries, grace: timedelta) -> None:
        self._ctx = ctx
        self._entries = entries
        self._grace = grace

    def schedule(self, batch_id: int, name: str, due_at: datetime, *, by: Who = GATEWAY) -> int:
        """The check of this name due then: scheduled now unless it already is."""
        if not name or not name.strip() or len(name) > 100:
            raise ExecutionError(
                f"batch {batch_id}: a scheduled check needs a name of 1-100 characters",
                hint="name the check as its values are recorded (e.g. 'seal integrity')",
            )
        due = _utc(due_at)
        with self._ctx.writing() as conn:
            batch_status(conn, batch_id)
            existing = conn.execute(
                select(ScheduledCheckRow.id).where(
                    ScheduledCheckRow.batch_id == batch_id,
                    ScheduledCheckRow.name == name,
                    ScheduledCheckRow.due_at == due,
                )
            ).scalar_one_or_none()
            if existing is not None:
                return int(existing)
            values = {"batch_id": batch_id, "name": name, "due_at": due}
            check_id = insert_returning_id(conn, insert(ScheduledCheckRow).values(**values))
            self._ctx.trail.record(
                conn,
                [
                    actor_of(by).event(
                        "ebr.check_scheduled", OBJECT, check_id, action="create", new=values
                    )
                ],
            )
            return check_id

    def record(
        self,
        batch_id: int,
        name: str,
        value: Any,
        limits: Limits | None,
        *,
        by: Who,
        source: Source | str = Source.MANUAL,
        unit: str | None = None,
        reason: str | None = None,
        evidence: Any = None,
        verifier: SignatureRequest | None = None,
    ) -> int:
        """Record the check's value (section `checks`); returns the entry's id."""
        limits = limits or Limits()
        actor = actor_of(by)

        def mark_done(conn: Connection, entry_id: int) -> None:
            pending = conn.execute(
                select(ScheduledCheckRow.id)
                .where(
                    ScheduledCheckRow.batch_id == batch_id,
                    ScheduledCheckRow.name == name,
                    ScheduledCheckRow.entry_id.is_(None),
                )
                .order_by(ScheduledCheckRow.due_at, ScheduledCheckRow.id)
                .limit(1)
            ).scalar_one_or_none()
            if pending is None:
                return
            conn.execute(
                update(ScheduledCheckRow)
                .where(ScheduledCheckRow.id == pending)
                .values(entry_id=entry_id)
            )
            self._ctx.trail.record(
                conn,
                [
                    actor.event(
                        "ebr.check_done",
                        OBJECT,
                        pending,
                        action="modify",
                        old={"entry_id": None},
                        new={"entry_id": entry_id},
                        reason=f"the check's value is entry {entry_id}",
                    )
                ],
            )

        return self._entries.record(
            NewEntry(
                batch_id,
                SECTION,
                name,
                value,
                source,
                by,
                unit=unit,
                low=limits.low,
                high=limits.high,
                reason=reason,
                evidence=evidence,
                verifier=verifier,
            ),
            then=mark_done,
        )

    def overdue(self, batch_id: int, now: datetime | None = None) -> list[ScheduledCheck]:
        """Checks past due and grace and not done; each raises its `missed_check` exception."""
        moment = _utc(now or self._ctx.now())
        with self._ctx.writing() as conn:
            batch_status(conn, batch_id)
            late = [
                check
                for check in _read(conn, batch_id)
                if not check.done and _utc(check.due_at) + self._grace < moment
            ]
            for check in late:
                raise_in(
                    conn,
                    self._ctx,
                    batch_id,
                    ExceptionKind.MISSED_CHECK,
                    Severity.MAJOR,
                    f"check {check.name} due at {utc_text(check.due_at)} was not done "
                    f"within {self._grace}",
                    f"{check.name}@{utc_text(check.due_at)}",
                    GATEWAY,
                )
        return late

    def checks(self, batch_id: int) -> list[ScheduledCheck]:
        with self._ctx.engine.connect() as conn:
            batch_status(conn, batch_id)
            return _read(conn, batch_id)


def _read(conn: Connection, batch_id: int) -> list[ScheduledCheck]:
    rows = conn.execute(
        select(ScheduledCheckRow)
        .where(ScheduledCheckRow.batch_id == batch_id)
        .order_by(ScheduledCheckRow.due_at, ScheduledCheckRow.id)
    )
    return [ScheduledCheck(r.id, r.batch_id, r.name, _utc(r.due_at), r.entry_id) for r in rows]


def _utc(moment: datetime) -> datetime:
    """Aware UTC; SQLite gives back naive datetimes, which are UTC as written."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
