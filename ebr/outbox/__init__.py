"""The outbox: every upward message, written in the journal's transaction and kept until its
receiver acknowledges it (`Outbox`); the message's header and hash chain (`message`)."""

from ebr.outbox.message import GENESIS, OutboxMessage, OutgoingEvent, message_hash
from ebr.outbox.store import (
    Outbox,
    OutboxFullError,
    OutboxLevel,
    OutboxLimits,
    QuarantinedMessage,
    StreamStatus,
)

__all__ = [
    "GENESIS",
    "Outbox",
    "OutboxFullError",
    "OutboxLevel",
    "OutboxLimits",
    "OutboxMessage",
    "OutgoingEvent",
    "QuarantinedMessage",
    "StreamStatus",
    "message_hash",
]
