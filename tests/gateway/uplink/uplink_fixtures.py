"""A batch journalled with the outbox feed as the journal's hook, and helpers to read what the
outbox holds."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from ebr.journal import EventKind, Journal
from ebr.outbox import GENESIS, Outbox, OutboxLimits, OutboxMessage, message_hash
from ebr.outbox.message import as_utc
from ebr.outbox.models import OutboxMessageRow
from gateway.epcis.from_journal import ExportSettings
from gateway.uplink.outbox_feed import OutboxFeed
from tests.ebr.journal.journal_fixtures import Line, make_line

SETTINGS = ExportSettings(zone=ZoneInfo("Asia/Shanghai"))
SENDER = "plant-1/line-1"


class StepClock:
    """Each commit a millisecond later: events of different commits never share a time."""

    def __init__(self) -> None:
        self._ticks = count()

    def __call__(self) -> datetime:
        return datetime(2026, 11, 22, 1, 2, 3, tzinfo=UTC) + timedelta(
            milliseconds=next(self._ticks)
        )


@dataclass
class FedLine:
    line: Line
    outbox: Outbox
    feed: OutboxFeed

    @property
    def engine(self) -> Engine:
        return self.line.engine


def fed_line(
    engine: Engine,
    *,
    destinations: Sequence[str] = ("hq",),
    units: int = 20,
    cases: int = 4,
    limits: OutboxLimits | None = None,
) -> FedLine:
    line = make_line(engine, units=units, cases=cases)
    outbox = Outbox(engine, limits=limits)
    feed = OutboxFeed(outbox, destinations, SETTINGS)
    line.journal = Journal(engine, clock=StepClock(), hook=feed)
    return FedLine(line, outbox, feed)


def run_production(fed: FedLine) -> None:
    """Accepts, a reject, a void, two cases on a pallet, a destruction."""
    line = fed.line
    u, c = line.units, line.cases
    line.accept(*u[:8])
    line.ok(
        line.event(EventKind.UNIT_ISSUED, u[8]),
        line.event(EventKind.UNIT_REJECTED, u[8], reason="grade", detail="D"),
    )
    line.ok(line.event(EventKind.UNIT_ISSUED, u[9]))
    line.ok(line.event(EventKind.CODES_VOIDED, keys=[u[9], u[10]], reason="restart"))
    line.ok(line.event(EventKind.AGGREGATED, c[0], children=u[0:4], level="case"))
    line.ok(line.event(EventKind.AGGREGATED, c[1], children=u[4:8], level="case"))
    line.ok(line.event(EventKind.AGGREGATED, c[3], children=[c[0], c[1]], level="pallet"))
    line.ok(line.event(EventKind.UNIT_DESTROYED, u[7], reason="damaged", user="qa"))


def messages(engine: Engine, destination: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessageRow.__table__).order_by(OutboxMessageRow.id)
    if destination is not None:
        query = query.where(OutboxMessageRow.destination == destination)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        return [
            OutboxMessage(
                id=row.id,
                destination=row.destination,
                sender=row.sender,
                seq=row.seq,
                batch_id=row.batch_id,
                journal_seq=row.journal_seq,
                created_at=as_utc(row.created_at),
                prev_hash=row.prev_hash,
                hash=row.hash,
                body=row.body,
            )
            for row in rows
        ]


def event_ids(bodies: Sequence[str]) -> list[str]:
    return [json.loads(body)["eventID"] for body in bodies]


def assert_chained(stream: Sequence[OutboxMessage], first_prev: str = GENESIS) -> None:
    """Sequences 1, 2, 3…, each hash recomputed, each linked to the one before."""
    prev = first_prev
    for expected_seq, message in enumerate(stream, start=stream[0].seq if stream else 1):
        assert message.seq == expected_seq
        assert message.prev_hash == prev
        assert message.hash == message_hash(
            destination=message.destination,
            sender=message.sender,
            seq=message.seq,
            batch_id=message.batch_id,
            journal_seq=message.journal_seq,
            created_at=message.created_at,
            prev_hash=message.prev_hash,
            body=message.body,
        )
        prev = message.hash
