"""The journal's commit hook that fills the outbox: each committed entry's EPCIS events become
messages, in the journal's own transaction (both are written, or neither).

It runs on the unit verdict path, so what a batch needs is computed once and kept: the batch
record (site, product, lot, each code's level), the read point, and the mapper's memory of the
entries before (`gateway.epcis.from_journal.JournalMapper`). A batch seen for the first time
since start-up is caught up from its journal inside the transaction; that costs once per batch
and process, and is done by the runtime's first commit at start (the restart's voiding), not
by an accept. A failed transaction drops every batch's memory (rebuilt at next use), like the
journal's heads.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import Connection, func, select

from ebr.batch_record import BatchRecord, batch_record_on
from ebr.journal import EventKind, JournalEntry, read_entries
from ebr.models import Allocation, Code
from ebr.outbox import Outbox, OutgoingEvent
from gateway.epcis.from_journal import ExportSettings, JournalMapper
from serialization.epcis import EpcisEvent, event_to_jsonld
from serialization.rules import PackagingLevel

PRODUCING = frozenset(
    {
        EventKind.UNIT_ACCEPTED,
        EventKind.AGGREGATED,
        EventKind.CHILD_ADDED,
        EventKind.LABEL_REPLACED,
    }
)
"""Entries that add to what must be sent: refused when the outbox is full."""
KEPT_BATCHES = 4
"""Batches whose mapper stays in memory (a line runs one; a recall or a QA action may touch an
older one, which is then caught up from its journal)."""


def event_body(event: EpcisEvent) -> str:
    """The event as compact JSON-LD: what the outbox stores and every uplink sends."""
    return json.dumps(event_to_jsonld(event), separators=(",", ":"), ensure_ascii=False)


class _BatchFeed:
    def __init__(self, conn: Connection, batch_id: int, settings: ExportSettings) -> None:
        self.mapper = JournalMapper(batch_record_on(conn, batch_id), settings)
        self.record: BatchRecord = self.mapper.record
        self.sender = f"{self.record.site_id}/{self.record.line_id}"
        self.allocations_seen = _last_allocation(conn, batch_id)
        self.next_seq = 1

    def catch_up(self, conn: Connection, before_seq: int) -> None:
        """Map the entries written before `before_seq` that this feed has not seen (silently:
        their messages were written when they were)."""
        if self.next_seq < before_seq:
            for entry in read_entries(
                conn, self.record.batch_id, after_seq=self.next_seq - 1, before_seq=before_seq
            ):
                self.mapper.map(entry)
            self.next_seq = before_seq

    def learn_codes(self, conn: Connection, entries: Iterable[JournalEntry]) -> None:
        """Codes allocated to the batch since the feed last looked (a buffer refill)."""
        if all(key in self.mapper.codes for key in _named_keys(entries)):
            return
        rows = conn.execute(
            select(Code.key, Allocation.level, Allocation.id)
            .join(Allocation, Code.allocation_id == Allocation.id)
            .where(Allocation.batch_id == self.record.batch_id)
            .where(Allocation.id > self.allocations_seen)
        ).all()
        for key, level, allocation_id in rows:
            self.mapper.codes.allocate(key, PackagingLevel(level))
            self.allocations_seen = max(self.allocations_seen, int(allocation_id))

    def events(self, entries: Sequence[JournalEntry]) -> list[OutgoingEvent]:
        out: list[OutgoingEvent] = []
        for entry in entries:
            producing = entry.event.kind in PRODUCING
            for event in self.mapper.map(entry):
                out.append(
                    OutgoingEvent(
                        batch_id=self.record.batch_id,
                        journal_seq=entry.seq,
                        created_at=entry.at,
                        body=event_body(event),
                        producing=producing,
                    )
                )
            self.next_seq = entry.seq + 1
        return out


class OutboxFeed:
    """`ebr.journal.CommitHook`: pass it to `Journal(..., hook=feed)`."""

    def __init__(
        self, outbox: Outbox, destinations: Sequence[str], settings: ExportSettings
    ) -> None:
        if not destinations:
            raise ValueError("an outbox feed needs at least one destination")
        self.outbox = outbox
        self.destinations = tuple(destinations)
        self.settings = settings
        self._batches: OrderedDict[int, _BatchFeed] = OrderedDict()

    def on_commit(self, conn: Connection, entries: Sequence[JournalEntry]) -> None:
        by_batch: dict[int, list[JournalEntry]] = {}
        for entry in entries:
            by_batch.setdefault(entry.event.batch_id, []).append(entry)
        for batch_id, batch_entries in by_batch.items():
            feed = self._feed(conn, batch_id)
            feed.catch_up(conn, batch_entries[0].seq)
            feed.learn_codes(conn, batch_entries)
            events = feed.events(batch_entries)
            self.outbox.write(conn, feed.sender, self.destinations, events)

    def discard(self) -> None:
        self._batches.clear()

    def _feed(self, conn: Connection, batch_id: int) -> _BatchFeed:
        feed = self._batches.get(batch_id)
        if feed is None:
            feed = _BatchFeed(conn, batch_id, self.settings)
            self._batches[batch_id] = feed
            while len(self._batches) > KEPT_BATCHES:
                self._batches.popitem(last=False)
        else:
            self._batches.move_to_end(batch_id)
        return feed


def _last_allocation(conn: Connection, batch_id: int) -> int:
    last = conn.execute(
        select(func.max(Allocation.id)).where(Allocation.batch_id == batch_id)
    ).scalar()
    return int(last or 0)


def _named_keys(entries: Iterable[JournalEntry]) -> Iterable[str]:
    for entry in entries:
        event = entry.event
        if event.code_key is not None:
            yield event.code_key
        data: Mapping[str, object] = event.data
        for name in ("keys", "children"):
            values = data.get(name)
            if isinstance(values, list | tuple):
                yield from (value for value in values if isinstance(value, str))
        for name in ("child", "old"):
            value = data.get(name)
            if isinstance(value, str):
                yield value
