"""How many units each production outcome counts in a batch's journal, for reconciliation."""

from __future__ import annotations

import json

from sqlalchemy import Engine, func, select

from ebr.journal.events import EventKind
from ebr.models import JournalEventRow

COUNTED: dict[str, str] = {
    EventKind.UNIT_ISSUED.value: "issued",
    EventKind.UNIT_ACCEPTED.value: "accepted",
    EventKind.UNIT_REJECTED.value: "rejected",
    EventKind.REJECT_CONFIRMED.value: "reject_confirmed",
    EventKind.REJECT_MISSED.value: "reject_missed",
    EventKind.UNIT_SAMPLED.value: "sampled",
    EventKind.UNIT_DESTROYED.value: "destroyed",
}


def batch_counts(engine: Engine, batch_id: int) -> dict[str, int]:
    """issued / accepted / rejected / reject_confirmed / reject_missed / voided (number of
    keys) / sampled / destroyed, counted from the journal."""
    counts = dict.fromkeys((*COUNTED.values(), "voided"), 0)
    where = JournalEventRow.batch_id == batch_id
    with engine.connect() as conn:
        for kind, count in conn.execute(
            select(JournalEventRow.kind, func.count()).where(where).group_by(JournalEventRow.kind)
        ):
            name = COUNTED.get(kind)
            if name is not None:
                counts[name] = int(count)
        voided = conn.execute(
            select(JournalEventRow.data).where(
                where, JournalEventRow.kind == EventKind.CODES_VOIDED.value
            )
        ).scalars()
        counts["voided"] = sum(len(json.loads(data).get("keys", ())) for data in voided)
    return counts
