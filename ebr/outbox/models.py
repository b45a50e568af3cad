"""The outbox's tables: messages waiting for their receiver's acknowledgement, and the head of
each stream (its last sequence and hash, and what it holds now).

Outbox rows are transport copies, not GMP records: the journal keeps the record, and a message
is deleted once its receiver acknowledged it. A stream's head outlives its messages, so the
sequence and the hash chain go on across acknowledgements and restarts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ebr.models import Base, BigId

PENDING = 0
QUARANTINED = 1
"""The receiver refused the message as such (not a passing outage): kept, not retried until a
person releases it; later messages of its batch wait behind it."""


class OutboxMessageRow(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("uq_outbox_messages_stream_seq", "destination", "sender", "seq", unique=True),
        Index("ix_outbox_messages_destination_state_id", "destination", "state", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    """Commit order, which is the order messages leave in."""
    destination: Mapped[str] = mapped_column(String(32))
    sender: Mapped[str] = mapped_column(String(130))
    """`site/line`: who made the message."""
    seq: Mapped[int] = mapped_column(BigInteger)
    """Per stream (destination, sender): 1, 2, 3… with no gaps."""
    batch_id: Mapped[int] = mapped_column(BigInteger)
    journal_seq: Mapped[int] = mapped_column(Integer)
    """The journal entry that caused the message."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    """The EPCIS event, compact JSON: sent exactly as stored (its hash is in `hash`)."""
    state: Mapped[int] = mapped_column(SmallInteger, default=PENDING)
    error: Mapped[str | None] = mapped_column(Text)
    """Why the receiver refused it (quarantined messages)."""


class OutboxStreamRow(Base):
    __tablename__ = "outbox_streams"

    destination: Mapped[str] = mapped_column(String(32), primary_key=True)
    sender: Mapped[str] = mapped_column(String(130), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(BigInteger)
    """Messages of the stream in the outbox now."""
    bytes: Mapped[int] = mapped_column(BigInteger)
    """Their bodies' size in bytes."""
