"""The outbox: upward messages written with the journal entries that cause them, read in order
by one dispatcher per destination, deleted when the receiver acknowledges them.

Bounded: `OutboxLimits` caps the rows and the bytes of the bodies. Above the high-water mark
the gateway raises an alarm; a commit that would take the outbox past its limit with messages
of production (an accept, a packing) is refused, and with it the journal's transaction, so the
line rejects its units (fail-safe) instead of recording what cannot be sent. Messages that end
something already produced (a reject, a void, a destruction) are still written above the limit:
refusing them would lose nothing upward, but would keep the line from recording them.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, select, update

from ebr.errors import StoreError
from ebr.outbox.message import GENESIS, OutboxMessage, OutgoingEvent, as_utc, message_hash
from ebr.outbox.models import PENDING, QUARANTINED, OutboxMessageRow, OutboxStreamRow
from ebr.sql import chunked

log = logging.getLogger("tracegate.outbox")

MESSAGES = OutboxMessageRow.__table__
STREAMS = OutboxStreamRow.__table__
ACK_CHUNK = 10_000
"""Messages acknowledged per DELETE: a whole page (at most 10,000, `config.uplinks`), within
SQLite's 32,766 and PostgreSQL's 65,535 bound parameters."""
_PENDING_COLUMNS = (
    OutboxMessageRow.id,
    OutboxMessageRow.sender,
    OutboxMessageRow.seq,
    OutboxMessageRow.batch_id,
    OutboxMessageRow.journal_seq,
    OutboxMessageRow.created_at,
    OutboxMessageRow.prev_hash,
    OutboxMessageRow.hash,
    OutboxMessageRow.body,
)


class OutboxFullError(StoreError):
    """A commit would take the outbox past its limit with new production."""


@dataclass(frozen=True, slots=True)
class OutboxLimits:
    max_rows: int = 5_000_000
    max_bytes: int = 4 * 1024**3
    high_water: float = 0.8
    """Share of either limit at which the high-water alarm is raised."""

    def __post_init__(self) -> None:
        if self.max_rows < 1 or self.max_bytes < 1 or not 0 < self.high_water <= 1:
            raise ValueError(
                "outbox limits need max_rows >= 1, max_bytes >= 1 and 0 < high_water <= 1, "
                f"not {self.max_rows}, {self.max_bytes} and {self.high_water}"
            )


@dataclass(frozen=True, slots=True)
class OutboxLevel:
    rows: int
    bytes: int
    limits: OutboxLimits

    @property
    def share(self) -> float:
        """How full, as the larger of the two shares (rows, bytes)."""
        return max(self.rows / self.limits.max_rows, self.bytes / self.limits.max_bytes)

    @property
    def high(self) -> bool:
        return self.share >= self.limits.high_water

    @property
    def full(self) -> bool:
        return self.rows >= self.limits.max_rows or self.bytes >= self.limits.max_bytes

    def describe(self) -> str:
        return (
            f"{self.rows} messages of at most {self.limits.max_rows}, {self.bytes} bytes of at "
            f"most {self.limits.max_bytes} ({self.share:.0%})"
        )


@dataclass(frozen=True, slots=True)
class QuarantinedMessage:
    id: int
    destination: str
    sender: str
    seq: int
    batch_id: int
    error: str


@dataclass(frozen=True, slots=True)
class StreamStatus:
    destination: str
    sender: str
    last_seq: int
    rows: int
    bytes: int


class Outbox:
    """Synchronous; `write` runs inside the journal's transaction, the rest in their own."""

    def __init__(self, engine: Engine, *, limits: OutboxLimits | None = None) -> None:
        self._engine = engine
        self.limits = limits or OutboxLimits()

    @property
    def engine(self) -> Engine:
        return self._engine

    # --- the writer: inside the journal's transaction ------------------------------------------

    def write(
        self,
        conn: Connection,
        sender: str,
        destinations: Sequence[str],
        events: Sequence[OutgoingEvent],
    ) -> None:
        """One message per event and destination, chained per stream, through `conn`."""
        if not events or not destinations:
            return
        heads = {
            (row.destination, row.sender): row
            for row in conn.execute(select(STREAMS).with_for_update())
        }
        sizes = [len(event.body.encode("utf-8")) for event in events]
        if any(event.producing for event in events):
            self._check_room(
                OutboxLevel(
                    sum(int(head.rows) for head in heads.values()),
                    sum(int(head.bytes) for head in heads.values()),
                    self.limits,
                ),
                len(events) * len(destinations),
                sum(sizes) * len(destinations),
            )
        rows: list[dict[str, object]] = []
        for destination in destinations:
            head = heads.get((destination, sender))
            seq, prev = (0, GENESIS) if head is None else (int(head.last_seq), head.last_hash)
            for event in events:
                seq += 1
                created = as_utc(event.created_at)
                digest = message_hash(
                    destination=destination,
                    sender=sender,
                    seq=seq,
                    batch_id=event.batch_id,
                    journal_seq=event.journal_seq,
                    created_at=created,
                    prev_hash=prev,
                    body=event.body,
                )
                rows.append(
                    {
                        "destination": destination,
                        "sender": sender,
                        "seq": seq,
                        "batch_id": event.batch_id,
                        "journal_seq": event.journal_seq,
                        "created_at": created,
                        "prev_hash": prev,
                        "hash": digest,
                        "body": event.body,
                        "state": PENDING,
                    }
                )
                prev = digest
            change = {"new_seq": seq, "new_hash": prev, "n": len(events), "size": sum(sizes)}
            if head is None:
                conn.execute(
                    insert(OutboxStreamRow),
                    {
                        "destination": destination,
                        "sender": sender,
                        "last_seq": seq,
                        "last_hash": prev,
                        "rows": len(events),
                        "bytes": sum(sizes),
                    },
                )
            else:
                conn.execute(_GROW_STREAM, {"d": destination, "s": sender, **change})
        conn.execute(insert(OutboxMessageRow), rows)

    def _check_room(self, level: OutboxLevel, rows: int, size: int) -> None:
        if (
            level.rows + rows <= self.limits.max_rows
            and level.bytes + size <= self.limits.max_bytes
        ):
            return
        raise OutboxFullError(
            f"the outbox is full ({level.describe()}): new production is not recorded until "
            "the uplinks have delivered messages",
            hint="check the uplinks' connections and the quarantined messages "
            "(tracegate outbox status); production resumes by itself when there is room",
        )

    # --- the dispatchers ------------------------------------------------------------------------

    def level(self) -> OutboxLevel:
        with self._engine.connect() as conn:
            rows, size = conn.execute(
                select(
                    func.coalesce(func.sum(OutboxStreamRow.rows), 0),
                    func.coalesce(func.sum(OutboxStreamRow.bytes), 0),
                )
            ).one()
        return OutboxLevel(int(rows), int(size), self.limits)

    def pending(
        self,
        destination: str,
        *,
        limit: int,
        blocked_batches: Collection[int] = (),
        after_id: int = 0,
    ) -> list[OutboxMessage]:
        """The destination's oldest messages to send, in order, skipping the batches whose
        delivery waits for a quarantined message; with `after_id`, only those after that
        message (the dispatcher reading its next page while the page before is on its way)."""
        query = (
            select(*_PENDING_COLUMNS)
            .where(OutboxMessageRow.destination == destination)
            .where(OutboxMessageRow.state == PENDING)
        )
        if after_id:
            query = query.where(OutboxMessageRow.id > after_id)
        if blocked_batches:
            query = query.where(OutboxMessageRow.batch_id.not_in(sorted(blocked_batches)))
        with self._engine.connect() as conn:
            rows = conn.execute(query.order_by(OutboxMessageRow.id).limit(limit)).all()
        return [
            OutboxMessage(
                key, destination, sender, seq, batch, journal, as_utc(created), prev, digest, body
            )
            for key, sender, seq, batch, journal, created, prev, digest, body in rows
        ]

    def ack(self, messages: Sequence[OutboxMessage]) -> int:
        """The receiver holds `messages`: delete them, in one statement for a page of up to
        `ACK_CHUNK` messages. Returns how many were still there."""
        if not messages:
            return 0
        by_id = {message.id: message for message in messages}
        shrink: dict[tuple[str, str], list[int]] = {}
        with self._engine.begin() as conn:
            for chunk in chunked(sorted(by_id), ACK_CHUNK):
                deleted = (
                    conn.execute(
                        delete(OutboxMessageRow)
                        .where(OutboxMessageRow.id.in_(chunk))
                        .returning(OutboxMessageRow.id)
                    )
                    .scalars()
                    .all()
                )
                for message_id in deleted:
                    message = by_id[message_id]
                    entry = shrink.setdefault((message.destination, message.sender), [0, 0])
                    entry[0] += 1
                    entry[1] += len(message.body.encode("utf-8"))
            if shrink:
                conn.execute(
                    _SHRINK_STREAM,
                    [
                        {"d": d, "s": s, "n": n, "size": b}
                        for (d, s), (n, b) in sorted(shrink.items())
                    ],
                )
        return sum(n for n, _ in shrink.values())

    def quarantine(self, message: OutboxMessage, error: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                update(OutboxMessageRow)
                .where(OutboxMessageRow.id == message.id)
                .values(state=QUARANTINED, error=error)
            )
        log.warning(
            "outbox: %s refused message %s/%d (batch %d): %s; quarantined",
            message.destination,
            message.sender,
            message.seq,
            message.batch_id,
            error,
        )

    def quarantined(self, destination: str | None = None) -> list[QuarantinedMessage]:
        query = select(MESSAGES).where(OutboxMessageRow.state == QUARANTINED)
        if destination is not None:
            query = query.where(OutboxMessageRow.destination == destination)
        with self._engine.connect() as conn:
            rows = conn.execute(query.order_by(OutboxMessageRow.id)).all()
        return [
            QuarantinedMessage(
                row.id, row.destination, row.sender, row.seq, row.batch_id, row.error or ""
            )
            for row in rows
        ]

    def blocked_batches(self, destination: str) -> set[int]:
        """Batches with a quarantined message for `destination`: their later messages wait."""
        with self._engine.connect() as conn:
            return set(
                conn.execute(
                    select(OutboxMessageRow.batch_id)
                    .where(OutboxMessageRow.destination == destination)
                    .where(OutboxMessageRow.state == QUARANTINED)
                    .distinct()
                ).scalars()
            )

    def release(
        self,
        destination: str,
        *,
        message_ids: Collection[int] | None = None,
        batch_id: int | None = None,
    ) -> int:
        """Send quarantined messages again (after the cause was fixed at the receiver); all of
        the destination's, or those named. Returns how many were released."""
        statement = (
            update(OutboxMessageRow)
            .where(OutboxMessageRow.destination == destination)
            .where(OutboxMessageRow.state == QUARANTINED)
            .values(state=PENDING, error=None)
        )
        if message_ids is not None:
            statement = statement.where(OutboxMessageRow.id.in_(sorted(message_ids)))
        if batch_id is not None:
            statement = statement.where(OutboxMessageRow.batch_id == batch_id)
        with self._engine.begin() as conn:
            released = int(conn.execute(statement).rowcount)
        log.info("outbox: %d quarantined message(s) for %s released", released, destination)
        return released

    def streams(self) -> list[StreamStatus]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(STREAMS).order_by(OutboxStreamRow.destination, OutboxStreamRow.sender)
            ).all()
        return [
            StreamStatus(row.destination, row.sender, row.last_seq, row.rows, row.bytes)
            for row in rows
        ]


_GROW_STREAM = (
    update(OutboxStreamRow)
    .where(OutboxStreamRow.destination == bindparam("d"))
    .where(OutboxStreamRow.sender == bindparam("s"))
    .values(
        last_seq=bindparam("new_seq"),
        last_hash=bindparam("new_hash"),
        rows=OutboxStreamRow.rows + bindparam("n"),
        bytes=OutboxStreamRow.bytes + bindparam("size"),
    )
)
_SHRINK_STREAM = (
    update(OutboxStreamRow)
    .where(OutboxStreamRow.destination == bindparam("d"))
    .where(OutboxStreamRow.sender == bindparam("s"))
    .values(
        rows=OutboxStreamRow.rows - bindparam("n"),
        bytes=OutboxStreamRow.bytes - bindparam("size"),
    )
)
