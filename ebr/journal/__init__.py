"""The production journal: append-only, hash-chained events per batch, group-committed.

`Journal` writes and applies events in one transaction, `JournalWriter` group-commits them
from asyncio, `verify_journal` walks a batch's chain and replays it, `batch_counts` counts
outcomes for reconciliation.
"""

from ebr.journal.counts import batch_counts
from ebr.journal.events import (
    EventKind,
    JournalClosedError,
    JournalEntry,
    JournalEvent,
    JournalRejectedError,
)
from ebr.journal.hooks import CommitHook
from ebr.journal.store import Journal, read_entries
from ebr.journal.verify import JournalVerification, verify_journal
from ebr.journal.writer import JournalWriter

__all__ = [
    "CommitHook",
    "EventKind",
    "Journal",
    "JournalClosedError",
    "JournalEntry",
    "JournalEvent",
    "JournalRejectedError",
    "JournalVerification",
    "JournalWriter",
    "batch_counts",
    "read_entries",
    "verify_journal",
]
