"""Deviations: a departure from the procedure or the limits, opened with a reason (by a person,
or by the line when a tag's value leaves its limits) and closed by QA with a reason and an
e-signature. Opening one raises a `deviation` exception; an open critical one blocks release.

The closure is written, then signed: the signature covers the deviation as closed, which the
database keeps unchanged from then on. Should the signing itself fail after the checks made
beforehand, the deviation shows as closed without a valid signature, and release treats a
critical one as still open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ebr.audit.actor import Actor
from ebr.errors import NotFoundError
from ebr.execution.context import Context, Who, actor_of
from ebr.execution.errors import ExecutionError
from ebr.execution.exceptions import as_severity, raise_in
from ebr.execution.kinds import DeviationStatus, ExceptionKind, Severity
from ebr.execution.models import DeviationRow
from ebr.execution.signing import (
    DEVIATION_CLOSE_ACTION,
    DEVIATION_OBJECT,
    SignatureRequest,
    sign,
    signer_ready,
)
from ebr.execution.steps import batch_status
from ebr.signatures import Meaning
from ebr.sql import insert_returning_id
from ebr.users import Role, Session


@dataclass(frozen=True, slots=True)
class Deviation:
    id: int
    batch_id: int
    severity: Severity
    title: str
    description: str
    reason: str
    qms_reference: str | None
    entry_id: int | None
    status: DeviationStatus
    opened_at: datetime
    opened_by: str | None
    closed_at: datetime | None
    closed_by: str | None
    close_reason: str | None
    close_signed: bool
    """The closure carries a valid `deviation_close` signature."""

    @property
    def is_open(self) -> bool:
        """Open, or closed without a valid signature (which does not count as closed)."""
        return self.status is DeviationStatus.OPEN or not self.close_signed


def open_in(
    conn: Connection,
    ctx: Context,
    batch_id: int,
    *,
    severity: Severity | str,
    title: str,
    description: str,
    reason: str,
    qms_reference: str | None,
    entry_id: int | None,
    actor: Actor,
    exception: bool = True,
) -> int:
    """Open a deviation and raise its exception, in the caller's (audit-locked) transaction.

    Without `exception` the caller raises the one exception QA reviews for it (an
    out-of-limit value's deviation is reviewed through that value's exception)."""
    severity = as_severity(severity)
    _check_text(batch_id, title=title, description=description, reason=reason)
    if qms_reference is not None and len(qms_reference) > 100:
        raise ExecutionError(
            f"deviation of batch {batch_id}: the QMS reference is longer than 100 characters",
            hint="give the QMS record's number",
        )
    values = {
        "batch_id": batch_id,
        "severity": severity.value,
        "title": title,
        "description": description,
        "reason": reason,
        "qms_reference": qms_reference,
        "entry_id": entry_id,
        "status": DeviationStatus.OPEN.value,
        "opened_at": ctx.now(),
        "opened_by_user_id": actor.user_id,
        "opened_by": actor.username,
    }
    deviation_id = insert_returning_id(conn, insert(DeviationRow).values(**values))
    ctx.trail.record(
        conn,
        [
            actor.event(
                "ebr.deviation_opened", DEVIATION_OBJECT, deviation_id, action="create", new=values
            )
        ],
    )
    if not exception:
        return deviation_id
    raise_in(
        conn,
        ctx,
        batch_id,
        ExceptionKind.DEVIATION,
        severity,
        f"deviation {deviation_id}: {title}",
        deviation_id,
        actor,
    )
    return deviation_id


class Deviations:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def open_deviation(
        self,
        batch_id: int,
        severity: Severity | str,
        title: str,
        description: str,
        reason: str,
        qms_reference: str | None = None,
        *,
        by: Who,
    ) -> int:
        with self._ctx.writing() as conn:
            batch_status(conn, batch_id)
            return open_in(
                conn,
                self._ctx,
                batch_id,
                severity=severity,
                title=title,
                description=description,
                reason=reason,
                qms_reference=qms_reference,
                entry_id=None,
                actor=actor_of(by),
            )

    def close_deviation(
        self,
        deviation_id: int,
        session: Session,
        password: str,
        reason: str,
        *,
        username: str | None = None,
    ) -> Deviation:
        if not reason or not reason.strip():
            raise ExecutionError(
                f"closing deviation {deviation_id} needs a reason",
                hint="say how it was investigated and why it can be closed",
            )
        self._open_row(deviation_id)
        request = SignatureRequest(session, password, username)
        subject = (DEVIATION_OBJECT, str(deviation_id))
        signer = signer_ready(
            self._ctx, request, roles={Role.QA}, what="a deviation's closure", subject=subject
        )
        with self._ctx.writing() as conn:
            self._open_row(deviation_id, conn)
            at = self._ctx.now()
            conn.execute(
                update(DeviationRow)
                .where(DeviationRow.id == deviation_id)
                .values(
                    status=DeviationStatus.CLOSED.value,
                    closed_at=at,
                    closed_by_user_id=signer.user_id,
                    closed_by=signer.username,
                    close_reason=reason,
                )
            )
            self._ctx.trail.record(
                conn,
                [
                    actor_of(signer).event(
                        "ebr.deviation_closed",
                        DEVIATION_OBJECT,
                        deviation_id,
                        action="modify",
                        old={"status": DeviationStatus.OPEN.value},
                        new={"status": DeviationStatus.CLOSED.value, "closed_at": at},
                        reason=reason,
                    )
                ],
            )
        sign(
            self._ctx,
            request,
            action=DEVIATION_CLOSE_ACTION,
            object_type=DEVIATION_OBJECT,
            object_id=deviation_id,
            meaning=Meaning.APPROVED,
        )
        return self._deviation(self._open_or_closed(deviation_id))

    def deviations(self, batch_id: int) -> list[Deviation]:
        with self._ctx.engine.connect() as conn:
            batch_status(conn, batch_id)
            rows = conn.execute(
                select(DeviationRow)
                .where(DeviationRow.batch_id == batch_id)
                .order_by(DeviationRow.id)
            )
            listed = list(rows)
        return [self._deviation(row) for row in listed]

    def _open_row(self, deviation_id: int, conn: Connection | None = None) -> Any:
        row = self._open_or_closed(deviation_id, conn)
        if row.status != DeviationStatus.OPEN.value:
            raise ExecutionError(
                f"deviation {deviation_id} was already closed by {row.closed_by} at "
                f"{row.closed_at}",
                hint="a deviation is closed once; open a new one for a new finding",
            )
        return row

    def _open_or_closed(self, deviation_id: int, conn: Connection | None = None) -> Any:
        if conn is None:
            with self._ctx.engine.connect() as own:
                return self._open_or_closed(deviation_id, own)
        row = conn.execute(select(DeviationRow).where(DeviationRow.id == deviation_id)).first()
        if row is None:
            raise NotFoundError(
                f"there is no deviation {deviation_id}", hint="list the batch's deviations"
            )
        return row

    def _deviation(self, row: Any) -> Deviation:
        closed = row.status == DeviationStatus.CLOSED.value
        signed = closed and self._ctx.signatures.is_complete(
            DEVIATION_CLOSE_ACTION, DEVIATION_OBJECT, str(row.id)
        )
        return Deviation(
            row.id,
            row.batch_id,
            Severity(row.severity),
            row.title,
            row.description,
            row.reason,
            row.qms_reference,
            row.entry_id,
            DeviationStatus(row.status),
            row.opened_at,
            row.opened_by,
            row.closed_at,
            row.closed_by,
            row.close_reason,
            signed,
        )


def _check_text(batch_id: int, **texts: str) -> None:
    for name, text in texts.items():
        if not text or not text.strip():
            raise ExecutionError(
                f"a deviation of batch {batch_id} needs a {name}",
                hint="give title, description and reason",
            )
    if len(texts["title"]) > 200:
        raise ExecutionError(
            f"a deviation title of batch {batch_id} is longer than 200 characters",
            hint="shorten the title; the description holds the details",
        )
