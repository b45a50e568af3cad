"""What the journal records: the kinds of production event, an event, a written entry, and
the error for an event the journal refuses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from ebr.errors import StoreError


class EventKind(StrEnum):
    UNIT_ISSUED = "unit.issued"
    """The code was taken from the buffer and sent to the printer: Allocated → Encoded."""
    UNIT_ACCEPTED = "unit.accepted"
    """Verified: Encoded → Commissioned. The PLC gets 'accept' only once this is durable."""
    UNIT_REJECTED = "unit.rejected"
    """data {"reason", "detail"}; the key may be None (nothing readable)."""
    REJECT_CONFIRMED = "unit.reject_confirmed"
    """The reject bin's sensor saw the unit; no state change."""
    REJECT_MISSED = "unit.reject_missed"
    """No bin confirmation in time; no state change."""
    CODES_VOIDED = "codes.voided"
    """data {"keys": [...], "reason"}; code_key None."""
    CODES_RECALLED = "codes.recalled"
    """data {"keys": [...], "reason", "user", "scope"}; code_key None. Commissioned or Released
    codes become Inactive, which in this gateway means recalled (docs/trace.md)."""
    UNIT_SAMPLED = "unit.sampled"
    """data {"reason", "destructive", "user"}."""
    UNIT_DESTROYED = "unit.destroyed"
    """data {"reason", "user"}."""
    AGGREGATED = "aggregation.packed"
    """code_key = the parent; data {"children": [...], "level"}."""
    CHILD_ADDED = "aggregation.child_added"
    """code_key = the parent; data {"child"}."""
    CHILD_REMOVED = "aggregation.child_removed"
    """code_key = the parent; data {"child"}."""
    UNPACKED = "aggregation.unpacked"
    """code_key = the parent; data {"reason"}."""
    LABEL_REPLACED = "aggregation.label_replaced"
    """code_key = the new parent; data {"old", "reason"}."""
    BATCH_PHASE = "batch.phase"
    """data {"from", "to", "user", "reason"}; sets the batch's status."""
    NOTE = "line.note"
    """Anything else worth recording; data {"topic", ...}; no state change."""


@dataclass(frozen=True, slots=True)
class JournalEvent:
    batch_id: int
    kind: EventKind
    unit_ref: str | None = None
    code_key: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    """JSON-able: strings, integers, booleans, None, lists and mappings (no floats)."""


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """An event as written: its place in the batch's chain, its time and its hashes."""

    event: JournalEvent
    seq: int
    at: datetime
    prev_hash: str
    hash: str


class JournalRejectedError(StoreError):
    """An event the journal did not write because it is illegal in the current state."""

    def __init__(self, event: JournalEvent, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.event = event

    def __str__(self) -> str:
        where = f"{self.event.kind.value} for batch {self.event.batch_id}"
        if self.event.code_key is not None:
            where += f" (code {self.event.code_key})"
        text = f"journal refused {where}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


class JournalClosedError(StoreError):
    """The writer is not running: submit after `start()` and before `close()`."""
