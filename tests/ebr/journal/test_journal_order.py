"""Journal ids follow commit order, so a reader paging by id never passes an id that commits
later: on PostgreSQL every journal transaction first takes one advisory lock, SQLite's writers
queue anyway (BEGIN IMMEDIATE)."""

from __future__ import annotations

import threading
import time

from sqlalchemy import Engine, text

from ebr.allocation import CodeAllocator
from ebr.journal import EventKind, Journal, JournalEvent, JournalRejectedError
from ebr.journal.store import ORDER_LOCK
from ebr.records import record_page
from tests.ebr.fixtures_master import MASTER_KEY, install_master_data, open_batch


def test_a_journal_writer_waits_for_the_one_in_front(engine: Engine) -> None:
    install_master_data(engine)
    batch = open_batch(engine, "amox")
    (code,) = CodeAllocator(engine, master_key=MASTER_KEY).allocate("line-1", batch, 1)
    journal = Journal(engine)
    done = threading.Event()
    with engine.connect() as holder:
        holder.begin()
        if engine.dialect.name == "postgresql":
            holder.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ORDER_LOCK})
        writer = threading.Thread(
            target=lambda: (
                journal.append_many(
                    [JournalEvent(batch, EventKind.UNIT_ISSUED, code_key=code.key)]
                ),
                done.set(),
            )
        )
        writer.start()
        assert not done.wait(0.5)
        holder.rollback()
    assert done.wait(10)
    writer.join()


def test_a_pager_running_beside_two_writers_misses_and_repeats_nothing(engine: Engine) -> None:
    install_master_data(engine)
    batches = [
        open_batch(engine, "amox", lot=lot, line=line)
        for lot, line in (("L-1", "line-1"), ("L-2", "line-2"))
    ]
    allocator = CodeAllocator(engine, master_key=MASTER_KEY)
    keys = {
        b: [c.key for c in allocator.allocate(line, b, 120)]
        for b, line in zip(batches, ("line-1", "line-2"), strict=True)
    }
    writing = threading.Event()
    writing.set()
    failures: list[object] = []

    def write(batch: int) -> None:
        journal = Journal(engine)
        try:
            for start in range(0, 120, 4):
                part = keys[batch][start : start + 4]
                results = journal.append_many(
                    [JournalEvent(batch, EventKind.UNIT_ISSUED, code_key=k) for k in part]
                    + [JournalEvent(batch, EventKind.UNIT_ACCEPTED, code_key=k) for k in part]
                )
                failures.extend(r for r in results if isinstance(r, JournalRejectedError))
        except Exception as error:  # pragma: no cover - reported below
            failures.append(error)

    writers = [threading.Thread(target=write, args=(b,)) for b in batches]
    for writer in writers:
        writer.start()
    seen: list[int] = []
    since = 0
    while any(w.is_alive() for w in writers) or record_page(engine, since, 50, 1 << 20).records:
        page = record_page(engine, since, 50, 1 << 20)
        seen += [int(r.split('"sequence":', 1)[1].split(",", 1)[0]) for r in page.records]
        since = page.last_sequence
        time.sleep(0.001)
    for writer in writers:
        writer.join()
    assert not failures
    with engine.connect() as conn:
        accepted = [
            row.id
            for row in conn.execute(
                text("SELECT id FROM journal_events WHERE kind = 'unit.accepted' ORDER BY id")
            )
        ]
    assert seen == accepted
    assert len(seen) == 240
