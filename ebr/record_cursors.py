"""How far each upstream consumer has taken the records: acknowledgements and cursors.

A consumer (the MES, or one of its interfaces) acknowledges a sequence once it holds every
record up to it. Acknowledgements are appended, never changed (`record_acknowledgements`); the
cursor is the highest one, so acknowledging an older sequence again changes nothing, and a
restart on either side loses nothing. A sequence beyond the journal's newest entry cannot be
acknowledged: the consumer cannot have received it, and taking it would skip records still to
come.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection, Engine, func, insert, select

from ebr.audit.actor import utc_now
from ebr.errors import StoreError
from ebr.models import JournalEventRow, RecordAcknowledgement

MAX_CONSUMER_LENGTH = 64


class AcknowledgementError(StoreError):
    """An acknowledgement that cannot be taken; nothing was written."""


def consumer_cursor(engine: Engine, consumer: str) -> int:
    """The consumer's highest acknowledged sequence; 0 when it has acknowledged nothing."""
    _check_consumer(consumer)
    with engine.connect() as conn:
        return _cursor(conn, consumer)


def acknowledge(
    engine: Engine,
    consumer: str,
    sequence: int,
    *,
    username: str | None,
    clock: Callable[[], datetime] = utc_now,
) -> int:
    """Record that `consumer` holds every record up to `sequence`; the cursor afterwards."""
    _check_consumer(consumer)
    if sequence < 0:
        raise AcknowledgementError(
            f"sequence {sequence} is negative",
            hint="acknowledge the lastSequence GetRecords returned (0 or more)",
        )
    with engine.begin() as conn:
        cursor = _cursor(conn, consumer)
        if sequence <= cursor:
            return cursor
        head = int(conn.execute(select(func.max(JournalEventRow.id))).scalar_one() or 0)
        if sequence > head:
            raise AcknowledgementError(
                f"sequence {sequence} is beyond the newest record ({head}); "
                f"{consumer!r} cannot have received it",
                hint="acknowledge only the lastSequence of a page you have stored",
            )
        conn.execute(
            insert(RecordAcknowledgement).values(
                consumer=consumer, sequence=sequence, username=username, at=clock()
            )
        )
    return sequence


def _cursor(conn: Connection, consumer: str) -> int:
    value = conn.execute(
        select(func.max(RecordAcknowledgement.sequence)).where(
            RecordAcknowledgement.consumer == consumer
        )
    ).scalar_one()
    return int(value or 0)


def _check_consumer(consumer: str) -> None:
    if not consumer or consumer != consumer.strip() or len(consumer) > MAX_CONSUMER_LENGTH:
        raise AcknowledgementError(
            f"consumer name {consumer!r} is not valid",
            hint=f"1-{MAX_CONSUMER_LENGTH} characters without surrounding spaces, "
            "e.g. the MES account's user name",
        )
