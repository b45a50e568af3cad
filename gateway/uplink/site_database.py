"""A site server's PostgreSQL database as an uplink: each message becomes a row of its
`tracegate_epcis_events` table, inserted idempotently by eventID (a message sent again after a
lost acknowledgement inserts nothing), a page per transaction. The commit is the
acknowledgement.

The table is created when missing. It is the receiving side's: the gateway never updates or
deletes its rows. Connection and server failures are passing; a row the database refuses
(a constraint of the site's own) is sent again alone and quarantined if refused again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from ebr.db import make_engine
from ebr.outbox import OutboxMessage
from gateway.uplink.uplinks import Delivery, UplinkUnavailableError

METADATA = MetaData()
EVENTS = Table(
    "tracegate_epcis_events",
    METADATA,
    Column("event_id", String(100), primary_key=True),
    Column("sender", String(130), nullable=False),
    Column("sequence", BigInteger, nullable=False),
    Column("batch_id", BigInteger, nullable=False),
    Column("journal_seq", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("message_hash", String(64), nullable=False),
    Column("event", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)


class SiteDatabaseUplink:
    kind = "site-database"

    def __init__(self, name: str, url: str) -> None:
        self.name = name
        self.url = url
        self._engine: Engine | None = None

    async def open(self) -> None:
        try:
            self._engine = await asyncio.to_thread(self._connect)
        except SQLAlchemyError as error:
            raise self._unavailable(f"connect: {_first_line(error)}") from None

    async def close(self) -> None:
        if self._engine is not None:
            engine, self._engine = self._engine, None
            await asyncio.to_thread(engine.dispose)

    async def send(self, messages: Sequence[OutboxMessage]) -> Delivery:
        delivery = Delivery()
        try:
            await asyncio.to_thread(self._insert, messages)
        except (OperationalError, InterfaceError) as error:
            raise self._unavailable(_first_line(error)) from None
        except DBAPIError:
            for message in messages:
                if delivery.blocks(message):
                    continue
                try:
                    await asyncio.to_thread(self._insert, [message])
                except (OperationalError, InterfaceError) as error:
                    raise self._unavailable(_first_line(error), delivery.acked) from None
                except DBAPIError as error:
                    delivery.refuse(message, f"the site database refused it: {_first_line(error)}")
                else:
                    delivery.acked.append(message)
            return delivery
        delivery.acked.extend(messages)
        return delivery

    def _connect(self) -> Engine:
        engine = make_engine(self.url)
        METADATA.create_all(engine)
        return engine

    def _insert(self, messages: Sequence[OutboxMessage]) -> None:
        if self._engine is None:
            raise OperationalError("insert", {}, Exception("the uplink is not open"))
        received = datetime.now(UTC)
        rows: list[dict[str, Any]] = [
            {
                "event_id": _event_id(message),
                "sender": message.sender,
                "sequence": message.seq,
                "batch_id": message.batch_id,
                "journal_seq": message.journal_seq,
                "created_at": message.created_at,
                "message_hash": message.hash,
                "event": message.body,
                "received_at": received,
            }
            for message in messages
        ]
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(EVENTS).on_conflict_do_nothing(index_elements=["event_id"])
        with self._engine.begin() as conn:
            conn.execute(statement, rows)

    def _unavailable(
        self, reason: str, acked: Sequence[OutboxMessage] = ()
    ) -> UplinkUnavailableError:
        return UplinkUnavailableError(
            f"site database {self.name}: {reason}",
            acked=acked,
            hint="check the site server and its database; the messages are kept",
        )


def _event_id(message: OutboxMessage) -> str:
    """The eventID from the compact JSON body without parsing it all: it is the fourth key."""
    marker = '"eventID":"'
    start = message.body.index(marker) + len(marker)
    return message.body[start : message.body.index('"', start)]


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
