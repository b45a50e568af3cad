"""What the journal lets others add to its write transaction.

A `CommitHook` writes rows that must exist exactly when the journal entries that cause them
exist, such as the upward messages of the outbox: it runs inside the journal's transaction,
after the entries are inserted, so both commit or neither does. `ebr` cannot know what the
rows are (the EPCIS mapping lives in `gateway`), hence the seam.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import Connection

from ebr.journal.events import JournalEntry


class CommitHook(Protocol):
    def on_commit(self, conn: Connection, entries: Sequence[JournalEntry]) -> None:
        """Write what `entries` cause through `conn`, inside the journal's transaction.

        Raising aborts the whole transaction: the journal entries are not written either.
        Runs on the unit verdict path, so it must be cheap."""
        ...

    def discard(self) -> None:
        """The transaction failed after `on_commit`: forget anything remembered from it."""
        ...
