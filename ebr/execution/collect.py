"""What review collects when it starts: `late_verdicts` from the production journal (units the
line rejected because their verdict came too late) and `data_changed` from the audit trail
(every `modify` of the batch's recorded data). One exception per kind and reference, so
collecting again adds only what is new."""

from __future__ import annotations

import json

from sqlalchemy import Connection, String, and_, cast, or_, select

from ebr.audit.actor import GATEWAY
from ebr.audit.models import AuditEntry
from ebr.execution.context import Context
from ebr.execution.exceptions import raise_in
from ebr.execution.kinds import ExceptionKind, Severity
from ebr.execution.models import EntryRow
from ebr.execution.signing import ENTRY_OBJECT
from ebr.execution.steps import batch_status
from ebr.journal import EventKind
from ebr.models import JournalEventRow

LATE_VERDICT_REASON = "late_verdict"
"""The reason the line's pipeline gives a unit rejected because its verdict was late."""
PHASE_EVENTS = ("batch.phase", "batch.phase_changed")
"""Audit events of a batch's phase: the batch's progress, not a change of recorded data."""


def collect_review_exceptions(ctx: Context, batch_id: int) -> list[int]:
    """Raise what the journal and the audit trail show; returns the exceptions' ids."""
    with ctx.writing() as conn:
        batch_status(conn, batch_id)
        raised: list[int] = []
        late = late_verdict_seqs(conn, batch_id)
        if late:
            raised.append(
                raise_in(
                    conn,
                    ctx,
                    batch_id,
                    ExceptionKind.LATE_VERDICTS,
                    Severity.MINOR,
                    f"{len(late)} unit(s) rejected for a late verdict",
                    f"journal:{late[-1]}",
                    GATEWAY,
                )
            )
        for seq, event, object_type, object_id, reason in data_changes(conn, batch_id):
            raised.append(
                raise_in(
                    conn,
                    ctx,
                    batch_id,
                    ExceptionKind.DATA_CHANGED,
                    Severity.MINOR,
                    f"{event} on {object_type} {object_id}: {reason}",
                    seq,
                    GATEWAY,
                )
            )
        return raised


def late_verdict_seqs(conn: Connection, batch_id: int) -> list[int]:
    """Journal seqs of the batch's units rejected for a late verdict, in order."""
    rows = conn.execute(
        select(JournalEventRow.seq, JournalEventRow.data)
        .where(
            JournalEventRow.batch_id == batch_id,
            JournalEventRow.kind == EventKind.UNIT_REJECTED.value,
            JournalEventRow.data.contains(LATE_VERDICT_REASON),
        )
        .order_by(JournalEventRow.seq)
    )
    return [int(seq) for seq, data in rows if json.loads(data).get("reason") == LATE_VERDICT_REASON]


def data_changes(conn: Connection, batch_id: int) -> list[tuple[int, str, str, str, str | None]]:
    """(audit seq, event, object type, object id, reason) of each `modify` of the batch's
    entries, or of the batch itself other than its phase."""
    entry_ids = select(cast(EntryRow.id, String)).where(EntryRow.batch_id == batch_id)
    rows = conn.execute(
        select(
            AuditEntry.seq,
            AuditEntry.event,
            AuditEntry.object_type,
            AuditEntry.object_id,
            AuditEntry.reason,
        )
        .where(
            AuditEntry.action == "modify",
            or_(
                and_(AuditEntry.object_type == ENTRY_OBJECT, AuditEntry.object_id.in_(entry_ids)),
                and_(
                    AuditEntry.object_type == "batch",
                    AuditEntry.object_id == str(batch_id),
                    AuditEntry.event.not_in(PHASE_EVENTS),
                ),
            ),
        )
        .order_by(AuditEntry.seq)
    )
    return [
        (int(seq), event, kind, object_id, reason) for seq, event, kind, object_id, reason in rows
    ]
