"""Exceptions: what QA reviews instead of every value (review by exception).

One exception per batch, kind and reference (an entry id, a deviation id, an audit sequence,
a check), so raising one again — by the line after a restart, or by collecting at review
start twice — finds the one there. Each is acknowledged by QA with a comment, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ebr.audit.actor import GATEWAY, Actor
from ebr.errors import NotFoundError
from ebr.execution.context import Context, Who, actor_of
from ebr.execution.errors import ExecutionError
from ebr.execution.kinds import ExceptionKind, Severity
from ebr.execution.models import ExceptionRow
from ebr.execution.steps import batch_status
from ebr.sql import insert_returning_id
from ebr.users import PermissionDeniedError, Role, Session

OBJECT = "ebr_exception"


@dataclass(frozen=True, slots=True)
class ExceptionItem:
    id: int
    batch_id: int
    kind: ExceptionKind
    severity: Severity
    subject: str
    ref: str
    raised_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    comment: str | None

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None


def raise_in(
    conn: Connection,
    ctx: Context,
    batch_id: int,
    kind: ExceptionKind | str,
    severity: Severity | str,
    subject: str,
    ref: str | int,
    actor: Actor,
) -> int:
    """The exception of this kind and reference, raised now unless it already is (in the
    caller's transaction, which must hold the audit lock: `Context.writing`)."""
    kind, severity = as_kind(kind), as_severity(severity)
    ref = str(ref)
    if not subject.strip() or not ref.strip() or len(ref) > 200:
        raise ExecutionError(
            f"an exception of batch {batch_id} needs a subject and a reference "
            "(at most 200 characters)",
            hint="name what happened and what it refers to (entry, deviation, check…)",
        )
    existing = conn.execute(
        select(ExceptionRow.id).where(
            ExceptionRow.batch_id == batch_id,
            ExceptionRow.kind == kind.value,
            ExceptionRow.ref == ref,
        )
    ).scalar_one_or_none()
    if existing is not None:
        return int(existing)
    values = {
        "batch_id": batch_id,
        "kind": kind.value,
        "severity": severity.value,
        "subject": subject,
        "ref": ref,
        "raised_at": ctx.now(),
    }
    exception_id = insert_returning_id(conn, insert(ExceptionRow).values(**values))
    ctx.trail.record(
        conn,
        [actor.event("ebr.exception_raised", OBJECT, exception_id, action="create", new=values)],
    )
    return exception_id


def read_exceptions(
    conn: Connection, batch_id: int, *, include_acknowledged: bool
) -> list[ExceptionItem]:
    query = select(ExceptionRow).where(ExceptionRow.batch_id == batch_id)
    if not include_acknowledged:
        query = query.where(ExceptionRow.acknowledged_at.is_(None))
    return [_item(row) for row in conn.execute(query.order_by(ExceptionRow.id))]


class Exceptions:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def raise_exception(
        self,
        batch_id: int,
        kind: ExceptionKind | str,
        severity: Severity | str,
        subject: str,
        ref: str | int,
        *,
        by: Who = GATEWAY,
    ) -> int:
        with self._ctx.writing() as conn:
            batch_status(conn, batch_id)
            return raise_in(conn, self._ctx, batch_id, kind, severity, subject, ref, actor_of(by))

    def exceptions(
        self, batch_id: int, *, include_acknowledged: bool = False
    ) -> list[ExceptionItem]:
        with self._ctx.engine.connect() as conn:
            batch_status(conn, batch_id)
            return read_exceptions(conn, batch_id, include_acknowledged=include_acknowledged)

    def acknowledge(self, exception_id: int, session: Session, comment: str) -> ExceptionItem:
        session = self._ctx.users.touch(session)
        actor = actor_of(session)
        if session.role is not Role.QA:
            self._ctx.refuse(
                actor.event(
                    "ebr.acknowledge_refused",
                    OBJECT,
                    exception_id,
                    action="access",
                    new={"why": f"a {session.role.value} cannot acknowledge exceptions"},
                )
            )
            raise PermissionDeniedError(
                f"{session.username} is {session.role.value}; only QA acknowledges exceptions",
                hint="ask QA to review and acknowledge it",
            )
        if not comment or not comment.strip():
            raise ExecutionError(
                f"acknowledging exception {exception_id} needs a comment",
                hint="say what was checked and why the exception is acceptable",
            )
        with self._ctx.writing() as conn:
            row = conn.execute(select(ExceptionRow).where(ExceptionRow.id == exception_id)).first()
            if row is None:
                raise NotFoundError(
                    f"there is no exception {exception_id}", hint="list the batch's exceptions"
                )
            if row.acknowledged_at is not None:
                raise ExecutionError(
                    f"exception {exception_id} was already acknowledged by "
                    f"{row.acknowledged_by} at {row.acknowledged_at}",
                    hint="an exception is acknowledged once",
                )
            at = self._ctx.now()
            conn.execute(
                update(ExceptionRow)
                .where(ExceptionRow.id == exception_id)
                .values(
                    acknowledged_at=at,
                    acknowledged_by_user_id=session.user_id,
                    acknowledged_by=session.username,
                    comment=comment,
                )
            )
            self._ctx.trail.record(
                conn,
                [
                    actor.event(
                        "ebr.exception_acknowledged",
                        OBJECT,
                        exception_id,
                        action="modify",
                        old={"acknowledged": False},
                        new={"acknowledged": True, "at": at, "comment": comment},
                        reason=comment,
                    )
                ],
            )
            acknowledged = conn.execute(
                select(ExceptionRow).where(ExceptionRow.id == exception_id)
            ).one()
            return _item(acknowledged)


def as_kind(kind: ExceptionKind | str) -> ExceptionKind:
    try:
        return ExceptionKind(kind)
    except ValueError:
        raise ExecutionError(
            f"there is no exception kind {kind!r}",
            hint=f"kinds: {', '.join(k.value for k in ExceptionKind)}",
        ) from None


def as_severity(severity: Severity | str) -> Severity:
    try:
        return Severity(severity)
    except ValueError:
        raise ExecutionError(
            f"there is no severity {severity!r}",
            hint=f"severities: {', '.join(s.value for s in Severity)}",
        ) from None


def _item(row: Any) -> ExceptionItem:
    return ExceptionItem(
        row.id,
        row.batch_id,
        ExceptionKind(row.kind),
        Severity(row.severity),
        row.subject,
        row.ref,
        row.raised_at,
        row.acknowledged_at,
        row.acknowledged_by,
        row.comment,
    )
