"""What every uplink is to its dispatcher: open, send a page of messages in order, close."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ebr.outbox import OutboxMessage


@dataclass
class Delivery:
    """What became of a page: acknowledged by the receiver, or refused as such (with why).
    Messages in neither list were not sent (they wait for the next page)."""

    acked: list[OutboxMessage] = field(default_factory=list)
    refused: list[tuple[OutboxMessage, str]] = field(default_factory=list)

    def refuse(self, message: OutboxMessage, reason: str) -> None:
        self.refused.append((message, reason))

    def blocks(self, message: OutboxMessage) -> bool:
        """Whether a refused message of the same batch came before (its batch waits)."""
        return any(refused.batch_id == message.batch_id for refused, _ in self.refused)


class UplinkUnavailableError(Exception):
    """The receiver cannot be reached or cannot take anything now; retry later.

    `acked` holds what it acknowledged before the failure."""

    def __init__(
        self, message: str, *, acked: Sequence[OutboxMessage] = (), hint: str | None = None
    ) -> None:
        super().__init__(message)
        self.acked = list(acked)
        self.hint = hint


class Uplink(Protocol):
    name: str
    """The destination's id in the site file (the outbox's `destination`)."""
    kind: str

    async def open(self) -> None:
        """Connect; `UplinkUnavailableError` when the receiver cannot be reached."""
        ...

    async def send(self, messages: Sequence[OutboxMessage]) -> Delivery:
        """Send in order; `UplinkUnavailableError` (with what was acknowledged) on a passing
        failure. A refused message's later messages of the same batch are not sent."""
        ...

    async def close(self) -> None: ...
