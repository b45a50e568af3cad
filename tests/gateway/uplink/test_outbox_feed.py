"""The outbox is filled in the journal's own transaction: what the journal holds and what the
outbox holds are the batch's EPCIS events exactly, in order, chained per stream, across failed
transactions and restarts, within the outbox's limit."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest
from sqlalchemy import Connection, Engine, func, select

from ebr.batch_record import read_batch_record
from ebr.journal import EventKind, Journal, JournalEntry
from ebr.models import JournalEventRow
from ebr.outbox import Outbox, OutboxFullError, OutboxLimits
from gateway.epcis.from_journal import journal_to_epcis
from gateway.epcis.validate import jsonld_problems
from gateway.uplink.outbox_feed import OutboxFeed, event_body
from serialization.epcis import EpcisDocument, document_to_jsonld
from tests.gateway.uplink.uplink_fixtures import (
    SENDER,
    SETTINGS,
    FedLine,
    StepClock,
    assert_chained,
    event_ids,
    fed_line,
    messages,
    run_production,
)


def exported_bodies(fed: FedLine, batch: int | None = None) -> list[str]:
    batch_id = fed.line.batch if batch is None else batch
    record = read_batch_record(fed.engine, batch_id)
    events = journal_to_epcis(record, fed.line.journal.entries(batch_id), SETTINGS)
    return [event_body(event) for event in events]


def journal_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(JournalEventRow)).scalar_one())


class FailingAfter:
    """The feed, then a failure later in the same transaction (a disk error, say)."""

    def __init__(self, feed: OutboxFeed) -> None:
        self.feed = feed
        self.fail = True

    def on_commit(self, conn: Connection, entries: Sequence[JournalEntry]) -> None:
        self.feed.on_commit(conn, entries)
        if self.fail:
            raise OSError("disk full")

    def discard(self) -> None:
        self.feed.discard()


def test_the_outbox_holds_the_batch_s_epcis_events_in_journal_order(engine: Engine) -> None:
    fed = fed_line(engine)
    run_production(fed)
    stream = messages(engine)
    assert [m.body for m in stream] == exported_bodies(fed)
    assert {m.sender for m in stream} == {SENDER}
    assert_chained(stream)
    journal_seqs = [m.journal_seq for m in stream]
    assert journal_seqs == sorted(journal_seqs)
    steps = [json.loads(m.body).get("bizStep") for m in stream]
    assert steps.count("commissioning") == 8 + 3
    assert steps.count("packing") == 3
    assert "decommissioning" in steps
    assert "destroying" in steps
    document = document_to_jsonld(EpcisDocument([], stream[0].created_at))
    document["epcisBody"]["eventList"] = [json.loads(m.body) for m in stream]
    assert jsonld_problems(document) == []


def test_a_failed_journal_transaction_leaves_no_message_and_loses_no_later_one(
    engine: Engine,
) -> None:
    fed = fed_line(engine)
    line = fed.line
    failing = FailingAfter(fed.feed)
    line.journal = Journal(engine, clock=StepClock(), hook=failing)
    with pytest.raises(OSError, match="disk full"):
        line.journal.append_many([line.event(EventKind.UNIT_ISSUED, line.units[0])])
    assert journal_rows(engine) == 0
    assert messages(engine) == []
    failing.fail = False
    line.accept(*line.units[:3])
    failing.fail = True
    with pytest.raises(OSError, match="disk full"):
        line.journal.append_many(
            [line.event(EventKind.AGGREGATED, line.cases[0], children=line.units[:3], level="case")]
        )
    failing.fail = False
    line.ok(line.event(EventKind.UNIT_REJECTED, line.units[0], reason="late", detail="PLC"))
    stream = messages(engine)
    assert [m.body for m in stream] == exported_bodies(fed)
    assert_chained(stream)


def test_a_refused_message_refuses_the_journal_entry_too(engine: Engine) -> None:
    fed = fed_line(engine, limits=OutboxLimits(max_rows=3))
    line = fed.line
    line.accept(*line.units[:3])
    before = journal_rows(engine)
    line.ok(line.event(EventKind.UNIT_ISSUED, line.units[3]))
    with pytest.raises(OutboxFullError, match="the outbox is full") as refused:
        line.journal.append_many([line.event(EventKind.UNIT_ACCEPTED, line.units[3])])
    assert "tracegate outbox status" in str(refused.value)
    assert journal_rows(engine) == before + 1, "only the issue is recorded"
    assert len(messages(engine)) == 3


def test_above_the_limit_a_reject_and_a_phase_are_still_recorded_and_sent(
    engine: Engine,
) -> None:
    fed = fed_line(engine, limits=OutboxLimits(max_rows=2))
    line = fed.line
    line.accept(*line.units[:2])
    line.ok(line.event(EventKind.UNIT_REJECTED, line.units[0], reason="late", detail="PLC"))
    line.ok(line.event(EventKind.BATCH_PHASE, to="held", user="op", reason="outbox full"))
    assert fed.outbox.level().full
    stream = messages(engine)
    assert len(stream) == 3
    assert json.loads(stream[-1].body)["bizStep"] == "destroying"


def test_high_water_is_reported_before_the_limit(engine: Engine) -> None:
    fed = fed_line(engine, limits=OutboxLimits(max_rows=10, high_water=0.5))
    line = fed.line
    line.accept(*line.units[:4])
    assert not fed.outbox.level().high
    line.accept(line.units[4])
    level = fed.outbox.level()
    assert level.high
    assert not level.full
    assert level.rows == 5
    assert level.bytes == sum(len(m.body.encode()) for m in messages(engine))
    assert "5 messages of at most 10" in level.describe()


def test_a_restart_keeps_the_outbox_and_continues_every_stream(engine: Engine) -> None:
    fed = fed_line(engine, destinations=("hq", "site-db"))
    line = fed.line
    line.accept(*line.units[:4])
    first = {d: messages(engine, d) for d in ("hq", "site-db")}
    fed.outbox.ack(first["hq"][:2])

    restarted = Outbox(engine)
    feed = OutboxFeed(restarted, ("hq", "site-db"), SETTINGS)
    line.journal = Journal(engine, clock=StepClock(), hook=feed)
    line.ok(line.event(EventKind.AGGREGATED, line.cases[0], children=line.units[:4], level="case"))
    for destination in ("hq", "site-db"):
        stream = messages(engine, destination)
        kept = first[destination][2:] if destination == "hq" else first[destination]
        assert stream[: len(kept)] == kept
        assert_chained(stream, first_prev=stream[0].prev_hash)
        assert stream[-1].seq == 6
    assert [m.body for m in messages(engine, "site-db")] == exported_bodies(fed)
    status = {s.destination: s for s in restarted.streams()}
    assert status["hq"].rows == 4
    assert status["site-db"].rows == 6
    assert status["hq"].last_seq == 6


def test_batches_interleaved_in_commits_stay_in_order_each(engine: Engine) -> None:
    fed = fed_line(engine)
    line = fed.line
    other = line.other_units
    for mine, theirs in zip(line.units[:4], other[:4], strict=True):
        line.ok(
            line.event(EventKind.UNIT_ISSUED, mine),
            line.event(EventKind.UNIT_ISSUED, theirs, batch=line.other_batch),
        )
        line.ok(
            line.event(EventKind.UNIT_ACCEPTED, theirs, batch=line.other_batch),
            line.event(EventKind.UNIT_ACCEPTED, mine),
        )
    stream = messages(engine)
    for batch in (line.batch, line.other_batch):
        mine = [m.body for m in stream if m.batch_id == batch]
        assert mine == exported_bodies(fed, batch)
    assert len(set(event_ids([m.body for m in stream]))) == 8


def test_a_recall_is_sent_as_holding_with_disposition_recalled(engine: Engine) -> None:
    fed = fed_line(engine)
    line = fed.line
    line.accept(*line.units[:3])
    line.ok(
        line.event(
            EventKind.CODES_RECALLED,
            keys=line.units[:3],
            reason="complaint",
            user="qa",
            scope="codes",
        )
    )
    recall = json.loads(messages(engine)[-1].body)
    assert recall["type"] == "ObjectEvent"
    assert recall["action"] == "OBSERVE"
    assert recall["bizStep"] == "holding"
    assert recall["disposition"] == "recalled"
    assert len(recall["epcList"]) == 3
    assert [m.body for m in messages(engine)] == exported_bodies(fed)
