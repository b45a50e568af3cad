"""What the feed learns from the production journal: the batch's phase changes and the line's
notes (clearance, challenge, reconciliation, alarms, changeovers), in the order they happened.

The journal is the line's durable account of the batch, so the feed follows it rather than the
runtime's objects: it sees only what was committed, sees it again after a gateway restart, and
reads nothing on the verdict path. Unit events are left out by the query (the journal indexes
its entries by batch and kind), so a long batch costs the feed a few rows per read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from ebr.journal import EventKind
from ebr.journal.chain import as_utc
from ebr.models import JournalEventRow

PAGE = 500
FOLLOWED = (EventKind.NOTE.value, EventKind.BATCH_PHASE.value)


@dataclass(frozen=True, slots=True)
class LineNote:
    """A phase change (`topic` "phase", data with from, to, user, reason) or a note (`topic`
    as the line wrote it: clearance, challenge, reconciliation, alarm, …)."""

    seq: int
    at: datetime
    topic: str
    data: dict[str, Any]


def notes_after(engine: Engine, batch_id: int, after_seq: int) -> list[LineNote]:
    """The batch's phase changes and notes after `after_seq`, oldest first (one page)."""
    table = JournalEventRow.__table__
    query = (
        select(table.c.seq, table.c.at, table.c.kind, table.c.data)
        .where(
            table.c.batch_id == batch_id,
            table.c.kind.in_(FOLLOWED),
            table.c.seq > after_seq,
        )
        .order_by(table.c.seq)
        .limit(PAGE)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    notes = []
    for seq, at, kind, text in rows:
        data = json.loads(text)
        topic = "phase" if kind == EventKind.BATCH_PHASE.value else str(data.get("topic", ""))
        notes.append(LineNote(int(seq), as_utc(at), topic, data))
    return notes
