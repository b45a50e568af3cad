from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.exc import DatabaseError

from ebr.audit.trail import AuditTrail
from ebr.journal import EventKind, Journal, batch_counts, verify_journal
from ebr.journal.chain import GENESIS, event_hash
from ebr.models import Code, JournalEventRow
from serialization.states import CodeState
from tests.ebr.journal.journal_fixtures import Line, make_line


@pytest.fixture
def line(engine: Engine) -> Line:
    return make_line(engine)


def _run_some(line: Line) -> None:
    line.accept(*line.units[:4])
    line.ok(
        line.event(EventKind.UNIT_ISSUED, line.units[4]),
        line.event(EventKind.UNIT_REJECTED, line.units[4], reason="grade", detail="D"),
        line.event(EventKind.REJECT_CONFIRMED, line.units[4]),
        line.event(EventKind.NOTE, topic="challenge", result="passed"),
    )


def test_entries_link_from_genesis_and_verify(line: Line) -> None:
    _run_some(line)
    entries = list(line.journal.entries(line.batch))
    assert [e.seq for e in entries] == list(range(1, 13))
    assert entries[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.hash
    first = entries[0]
    assert first.hash == event_hash(
        batch_id=line.batch,
        seq=1,
        at=first.at,
        kind="unit.issued",
        unit_ref=None,
        code_key=line.units[0],
        data={},
        prev_hash=GENESIS,
    )
    assert first.at.tzinfo is not None
    assert line.journal.last_seq(line.batch) == 12
    assert line.journal.last_seq(line.other_batch) == 0
    assert [e.seq for e in line.journal.entries(line.batch, after_seq=10)] == [11, 12]
    result = verify_journal(line.engine, line.batch)
    assert (result.ok, result.states_match, result.events, result.problem) == (True, True, 12, None)


def test_stored_time_is_the_clock_in_utc(engine: Engine) -> None:
    line = make_line(engine)
    moment = datetime(2026, 11, 22, 9, 30, 15, 123456, tzinfo=UTC)
    line.journal = Journal(engine, clock=lambda: moment)
    (entry,) = line.ok(line.event(EventKind.UNIT_ISSUED, line.units[0]))
    (stored,) = line.journal.entries(line.batch)
    assert entry.at == stored.at == moment
    assert verify_journal(engine, line.batch).ok


def test_each_batch_has_its_own_chain(line: Line) -> None:
    line.ok(
        line.event(EventKind.UNIT_ISSUED, line.units[0]),
        line.event(EventKind.UNIT_ISSUED, line.other_units[0], batch=line.other_batch),
        line.event(EventKind.UNIT_ISSUED, line.units[1]),
    )
    assert [e.seq for e in line.journal.entries(line.other_batch)] == [1]
    assert [e.prev_hash for e in line.journal.entries(line.other_batch)] == [GENESIS]
    assert line.journal.last_seq(line.batch) == 2


def test_a_second_journal_continues_the_chain(line: Line) -> None:
    _run_some(line)
    Journal(line.engine).append_many([line.event(EventKind.NOTE, topic="shift")])
    assert verify_journal(line.engine, line.batch).events == 13


def test_the_database_refuses_update_and_delete(line: Line) -> None:
    _run_some(line)
    for statement in (
        "UPDATE journal_events SET data = '{}' WHERE seq = 2",
        "DELETE FROM journal_events WHERE seq = 12",
    ):
        with pytest.raises(DatabaseError, match="refused"), line.engine.begin() as conn:
            conn.execute(text(statement))
    assert verify_journal(line.engine, line.batch).ok


def _drop_trigger(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER journal_events_append_only ON journal_events"))
        else:
            conn.execute(text("DROP TRIGGER journal_events_no_update"))
            conn.execute(text("DROP TRIGGER journal_events_no_delete"))


def test_edited_data_is_found_at_its_seq(line: Line) -> None:
    _run_some(line)
    _drop_trigger(line.engine)
    with line.engine.begin() as conn:
        conn.execute(
            update(JournalEventRow)
            .where(JournalEventRow.batch_id == line.batch, JournalEventRow.seq == 10)
            .values(data='{"detail":"A","reason":"grade"}')
        )
    result = verify_journal(line.engine, line.batch)
    assert not result.ok
    assert result.first_bad_seq == 10
    assert "altered" in (result.problem or "")


def test_a_removed_entry_is_found(line: Line) -> None:
    _run_some(line)
    _drop_trigger(line.engine)
    with line.engine.begin() as conn:
        conn.execute(
            JournalEventRow.__table__.delete().where(
                JournalEventRow.batch_id == line.batch, JournalEventRow.seq == 5
            )
        )
    result = verify_journal(line.engine, line.batch)
    assert (result.ok, result.first_bad_seq) == (False, 6)
    assert "gap" in (result.problem or "")


def test_a_rehashed_forgery_breaks_the_next_link(line: Line) -> None:
    _run_some(line)
    _drop_trigger(line.engine)
    (third,) = [e for e in line.journal.entries(line.batch) if e.seq == 3]
    forged = event_hash(
        batch_id=line.batch,
        seq=3,
        at=third.at,
        kind="unit.issued",
        unit_ref="forged",
        code_key=third.event.code_key,
        data={},
        prev_hash=third.prev_hash,
    )
    with line.engine.begin() as conn:
        conn.execute(
            update(JournalEventRow)
            .where(JournalEventRow.batch_id == line.batch, JournalEventRow.seq == 3)
            .values(unit_ref="forged", hash=forged)
        )
    result = verify_journal(line.engine, line.batch)
    assert (result.ok, result.first_bad_seq) == (False, 4)


def test_a_state_changed_behind_the_journal_is_found(line: Line) -> None:
    _run_some(line)
    with line.engine.begin() as conn:
        conn.execute(
            update(Code).where(Code.key == line.units[1]).values(state=int(CodeState.ENCODED))
        )
    result = verify_journal(line.engine, line.batch)
    assert result.ok
    assert not result.states_match
    assert line.units[1] in (result.problem or "")


def test_counts_for_reconciliation(line: Line) -> None:
    _run_some(line)
    line.ok(
        line.event(EventKind.UNIT_REJECTED, None, reason="no read", detail=""),
        line.event(EventKind.REJECT_MISSED),
        line.event(EventKind.CODES_VOIDED, keys=line.units[10:13], reason="end of batch"),
        line.event(EventKind.UNIT_SAMPLED, line.units[0], reason="QC", destructive=True, user="a"),
        line.event(EventKind.UNIT_DESTROYED, line.units[0], reason="tested", user="a"),
    )
    assert batch_counts(line.engine, line.batch) == {
        "issued": 5,
        "accepted": 4,
        "rejected": 2,
        "reject_confirmed": 1,
        "reject_missed": 1,
        "voided": 3,
        "sampled": 1,
        "destroyed": 1,
    }


def test_each_commit_anchors_the_journal_head_in_the_audit_trail(line: Line) -> None:
    line.ok(
        line.event(EventKind.UNIT_ISSUED, line.units[0]),
        line.event(
            EventKind.BATCH_PHASE, **{"from": line.status(), "to": "running", "user": "olga"}
        ),
    )
    trail = AuditTrail(line.engine)
    (anchor,) = trail.entries(event="journal.appended")
    head = list(line.journal.entries(line.batch))[-1]
    assert anchor.new == {"first_seq": 1, "last_seq": 2, "head": head.hash}
    (phase,) = trail.entries(event="batch.phase_changed")
    assert (phase.username, phase.new) == ("olga", {"status": "running"})


def test_no_journal_for_an_unknown_batch(engine: Engine) -> None:
    result = verify_journal(engine, 999)
    assert not result.ok
    assert "unknown batch" in (result.problem or "")


def test_stored_codes_unchanged_by_a_refused_event(line: Line) -> None:
    line.refused(line.event(EventKind.UNIT_ACCEPTED, line.units[0]))
    with line.engine.connect() as conn:
        assert conn.execute(select(JournalEventRow.id)).first() is None
    assert line.state(line.units[0]) is CodeState.ALLOCATED
