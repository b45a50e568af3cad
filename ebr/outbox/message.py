"""An outbox message: a header (who sent it, its place in its stream, when it was made, that it
must be acknowledged, the previous message's hash) and a body (one EPCIS event as JSON).

The hash chains the messages of one stream (one destination, one sender): a receiver that
recomputes `message_hash` over what it received, and finds each message's `prev_hash` equal to
the hash of the message before, knows that nothing was changed, dropped or reordered on the way
(R-DATA-1, R-DATA-2). Sequence 1 links to 64 zeros.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class OutgoingEvent:
    """What a journal entry causes: one body for every destination."""

    batch_id: int
    journal_seq: int
    created_at: datetime
    body: str
    producing: bool = False
    """Caused by production (an accept, a packing): refused when the outbox is full."""


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: int
    destination: str
    sender: str
    seq: int
    batch_id: int
    journal_seq: int
    created_at: datetime
    prev_hash: str
    hash: str
    body: str

    @property
    def ack_required(self) -> bool:
        """Every outbox message is kept until its receiver acknowledges it."""
        return True

    def header(self) -> dict[str, object]:
        """The header as JSON values (how the uplinks send it)."""
        return {
            "sender": self.sender,
            "destination": self.destination,
            "sequence": self.seq,
            "batch": self.batch_id,
            "journalSeq": self.journal_seq,
            "created": created_text(self.created_at),
            "ackRequired": self.ack_required,
            "previousHash": self.prev_hash,
            "hash": self.hash,
        }


def as_utc(moment: datetime) -> datetime:
    """A timezone-aware UTC datetime; a naive one (as SQLite returns it) is taken as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def created_text(at: datetime) -> str:
    """UTC to the microsecond, e.g. 2026-11-22T01:02:03.456789Z."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def message_hash(
    *,
    destination: str,
    sender: str,
    seq: int,
    batch_id: int,
    journal_seq: int,
    created_at: datetime,
    prev_hash: str,
    body: str,
) -> str:
    """SHA-256, hex, of the header's fields one per line, then the body's UTF-8 bytes:
    `destination\\nsender\\nseq\\nbatch\\njournal_seq\\ncreated\\nprev_hash\\n{body}`."""
    head = (
        f"{destination}\n{sender}\n{seq}\n{batch_id}\n{journal_seq}\n"
        f"{created_text(created_at)}\n{prev_hash}\n"
    )
    return hashlib.sha256(head.encode("utf-8") + body.encode("utf-8")).hexdigest()
