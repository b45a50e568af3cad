"""What the upward outbox holds for each uplink, as a restarted gateway finds it.

The outbox keeps no in-flight state: a message handed to an uplink stays pending until its
receiver acknowledges it, so whatever was on its way when the gateway stopped is counted as
pending and is sent again (receivers deduplicate by eventID). Quarantined messages wait for a
person to release them, and hold their batches' later messages back.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from ebr.outbox.models import PENDING, QUARANTINED, OutboxMessageRow, OutboxStreamRow


@dataclass(frozen=True, slots=True)
class UplinkBacklog:
    destination: str
    pending: int
    """Not yet acknowledged by the receiver: waiting, or sent before the restart."""
    quarantined: int

    def describe(self) -> str:
        return f"{self.destination} {self.pending} pending, {self.quarantined} quarantined"


def outbox_backlog(engine: Engine) -> list[UplinkBacklog]:
    """One entry per destination that ever had a message, by name; the counts come from the
    index on (destination, state, id)."""
    with engine.connect() as conn:
        destinations = conn.execute(select(OutboxStreamRow.destination).distinct()).scalars()
        counts = {name: {PENDING: 0, QUARANTINED: 0} for name in destinations}
        rows = conn.execute(
            select(OutboxMessageRow.destination, OutboxMessageRow.state, func.count()).group_by(
                OutboxMessageRow.destination, OutboxMessageRow.state
            )
        )
        for destination, state, count in rows:
            counts.setdefault(destination, {PENDING: 0, QUARANTINED: 0})[state] = int(count)
    return [
        UplinkBacklog(name, found[PENDING], found[QUARANTINED])
        for name, found in sorted(counts.items())
    ]
