from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from ebr.journal import (
    EventKind,
    Journal,
    JournalClosedError,
    JournalEntry,
    JournalEvent,
    JournalRejectedError,
    JournalWriter,
    verify_journal,
)
from tests.ebr.journal.journal_fixtures import Line, make_line

K = EventKind


@pytest.fixture
def line(engine: Engine) -> Line:
    return make_line(engine, units=60)


class WatchedJournal(Journal):
    """A real journal that records what was durable when each call returned."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.calls: list[int] = []

    def append_many(
        self, events: Sequence[JournalEvent]
    ) -> list[JournalEntry | JournalRejectedError]:
        results = super().append_many(events)
        self.calls.append(len(events))
        return results


async def test_concurrent_submitters_share_commits(line: Line) -> None:
    journal = WatchedJournal(line.engine)
    writer = JournalWriter(journal, window_s=0.01)
    await writer.start()

    async def submitter(keys: list[str]) -> list[JournalEntry]:
        return [await writer.append(line.event(K.UNIT_ISSUED, key)) for key in keys]

    groups = [line.units[i : i + 5] for i in range(0, 40, 5)]
    done = await asyncio.gather(*(submitter(keys) for keys in groups))
    await writer.close()
    assert writer.events_written == 40
    assert writer.commits < 40
    assert writer.commits == len(journal.calls)
    assert sorted(e.seq for entries in done for e in entries) == list(range(1, 41))
    result = verify_journal(line.engine, line.batch)
    assert (result.ok, result.states_match, result.events) == (True, True, 40)


async def test_a_future_resolves_only_after_its_commit(line: Line) -> None:
    journal = WatchedJournal(line.engine)
    writer = JournalWriter(journal, window_s=0.05)
    await writer.start()
    future = writer.submit(line.event(K.UNIT_ISSUED, line.units[0]))
    await asyncio.sleep(0)
    assert not future.done()
    assert writer.pending == 1
    entry = await future
    assert journal.calls == [1]
    assert journal.last_seq(line.batch) == entry.seq == 1
    assert writer.pending == 0
    await writer.close()


async def test_an_illegal_event_fails_only_its_own_future(line: Line) -> None:
    writer = JournalWriter(Journal(line.engine), window_s=0.01)
    await writer.start()
    good = writer.submit(line.event(K.UNIT_ISSUED, line.units[0]))
    bad = writer.submit(line.event(K.UNIT_ACCEPTED, line.units[1]))
    also_good = writer.submit(line.event(K.UNIT_ACCEPTED, line.units[0]))
    assert (await good).seq == 1
    with pytest.raises(JournalRejectedError, match="only a code that is Encoded"):
        await bad
    assert (await also_good).seq == 2
    assert writer.commits == 1
    await writer.close()


async def test_close_writes_what_is_queued(line: Line) -> None:
    writer = JournalWriter(Journal(line.engine), window_s=1.0, max_events=3)
    await writer.start()
    futures = [writer.submit(line.event(K.UNIT_ISSUED, key)) for key in line.units[:7]]
    await writer.close()
    assert all(f.done() and not f.exception() for f in futures)
    assert writer.events_written == 7
    assert writer.commits == 3
    with pytest.raises(JournalClosedError):
        writer.submit(line.event(K.UNIT_ISSUED, line.units[8]))


async def test_submit_needs_a_started_writer(line: Line) -> None:
    writer = JournalWriter(Journal(line.engine))
    with pytest.raises(JournalClosedError, match="not running"):
        writer.submit(line.event(K.NOTE, topic="x"))


class FailingWhenTold(Journal):
    """A real journal whose next transaction, once told, fails after its events are written."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.fail = False

    def _write(self, conn, view, rows, at, heads, first_seq, written):  # type: ignore[no-untyped-def]
        super()._write(conn, view, rows, at, heads, first_seq, written)
        if self.fail:
            self.fail = False
            raise OperationalError("COMMIT", {}, Exception("disk I/O error"))


async def test_a_failed_commit_reports_nothing_durable_and_keeps_the_chain(line: Line) -> None:
    journal = FailingWhenTold(line.engine)
    writer = JournalWriter(journal, window_s=0.01)
    await writer.start()
    await writer.append(line.event(K.UNIT_ISSUED, line.units[0]))
    journal.fail = True
    lost = [writer.submit(line.event(K.UNIT_ISSUED, key)) for key in line.units[1:3]]
    for future in lost:
        with pytest.raises(OperationalError):
            await future
    entry = await writer.append(line.event(K.UNIT_ISSUED, line.units[1]))
    await writer.close()
    assert entry.seq == 2
    result = verify_journal(line.engine, line.batch)
    assert (result.ok, result.states_match, result.events) == (True, True, 2)


async def test_lazy_events_ride_in_the_next_urgent_commit(line: Line) -> None:
    journal = WatchedJournal(line.engine)
    writer = JournalWriter(journal, window_s=0.0, lazy_window_s=5.0)
    await writer.start()
    issued = [writer.submit(line.event(K.UNIT_ISSUED, key), lazy=True) for key in line.units[:3]]
    await asyncio.sleep(0.05)
    assert journal.calls == []
    assert not any(future.done() for future in issued)
    accepted = await writer.append(line.event(K.UNIT_ACCEPTED, line.units[0]))
    await asyncio.gather(*issued)
    assert journal.calls == [4]
    assert accepted.seq == 4
    await writer.close()


async def test_a_lazy_event_alone_is_written_after_its_window(line: Line) -> None:
    journal = WatchedJournal(line.engine)
    writer = JournalWriter(journal, window_s=0.0, lazy_window_s=0.05)
    await writer.start()
    entry = await asyncio.wait_for(
        writer.submit(line.event(K.UNIT_ISSUED, line.units[0]), lazy=True), 2.0
    )
    assert entry.seq == 1
    late = writer.submit(line.event(K.UNIT_ISSUED, line.units[1]), lazy=True)
    await writer.close()
    assert late.done()
    assert (await late).seq == 2
