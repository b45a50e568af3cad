"""Records for upstream systems, read from the journal; consumers' acknowledgements."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from ebr.journal import EventKind, JournalEvent
from ebr.journal.chain import event_hash
from ebr.record_cursors import AcknowledgementError, acknowledge, consumer_cursor
from ebr.records import aggregation_tree, batch_record, code_trace, head_sequence, record_page
from tests.ebr.journal.journal_fixtures import Line, make_line


def records(engine: Engine, since: int = 0, count: int = 1000) -> list[dict[str, object]]:
    return [json.loads(r) for r in record_page(engine, since, count, 1 << 30).records]


def test_only_record_kinds_are_records_and_each_can_be_verified(engine: Engine) -> None:
    line = make_line(engine, units=4, cases=1)
    line.accept(*line.units[:3])
    line.ok(
        line.event(EventKind.REJECT_CONFIRMED, line.units[0]),
        line.event(EventKind.NOTE, topic="challenge", passed=True),
        line.event(EventKind.CODES_VOIDED, keys=[line.units[3]], reason="batch end"),
        line.event(EventKind.AGGREGATED, line.cases[0], children=line.units[:2], level="case"),
    )
    found = records(engine)
    assert [(r["type"], r["kind"]) for r in found] == [
        ("commissioning", "unit.accepted"),
        ("commissioning", "unit.accepted"),
        ("commissioning", "unit.accepted"),
        ("decommissioning", "codes.voided"),
        ("aggregation", "aggregation.packed"),
    ]
    sequences = [r["sequence"] for r in found]
    assert sequences == sorted(sequences)
    for record in found:
        assert record["hash"] == event_hash(
            batch_id=record["batch_id"],  # type: ignore[arg-type]
            seq=record["batch_seq"],  # type: ignore[arg-type]
            at=datetime.fromisoformat(str(record["at"]).replace("Z", "+00:00")),
            kind=str(record["kind"]),
            unit_ref=record["unit_ref"],  # type: ignore[arg-type]
            code_key=record["code"],  # type: ignore[arg-type]
            data=record["data"],
            prev_hash=str(record["prev_hash"]),
        )


def test_pages_follow_each_other_by_sequence(engine: Engine) -> None:
    line = make_line(engine, units=10)
    line.accept(*line.units)
    first = record_page(engine, 0, 4, 1 << 20)
    second = record_page(engine, first.last_sequence, 4, 1 << 20)
    third = record_page(engine, second.last_sequence, 4, 1 << 20)
    assert (len(first.records), first.more) == (4, True)
    assert (len(second.records), second.more) == (4, True)
    assert (len(third.records), third.more) == (2, False)
    assert record_page(engine, third.last_sequence, 4, 1 << 20).records == []
    assert third.last_sequence == head_sequence(engine)
    one_byte = record_page(engine, 0, 4, 1)
    assert len(one_byte.records) == 1
    assert one_byte.more


def test_acknowledgements_only_move_forward_and_never_past_the_journal(engine: Engine) -> None:
    line = make_line(engine, units=3)
    line.accept(*line.units)
    head = head_sequence(engine)
    assert consumer_cursor(engine, "mes") == 0
    assert acknowledge(engine, "mes", head - 2, username="mes") == head - 2
    assert acknowledge(engine, "mes", 1, username="mes") == head - 2
    assert acknowledge(engine, "mes", head, username="mes") == head
    assert consumer_cursor(engine, "mes") == head
    assert consumer_cursor(engine, "erp") == 0
    with pytest.raises(AcknowledgementError, match="beyond the newest record"):
        acknowledge(engine, "erp", head + 1, username="mes")
    with pytest.raises(AcknowledgementError, match="negative"):
        acknowledge(engine, "erp", -1, username="mes")
    with pytest.raises(AcknowledgementError, match="consumer name"):
        acknowledge(engine, "", 1, username="mes")
    assert consumer_cursor(engine, "erp") == 0


def test_acknowledgements_are_never_changed_or_removed(engine: Engine) -> None:
    line = make_line(engine, units=1)
    line.accept(*line.units)
    acknowledge(engine, "mes", 1, username="mes")
    for statement in (
        "UPDATE record_acknowledgements SET sequence = 0",
        "DELETE FROM record_acknowledgements",
    ):
        with pytest.raises(DBAPIError, match="tracegate"), engine.begin() as conn:
            conn.execute(text(statement))
    assert consumer_cursor(engine, "mes") == 1


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(acks=st.lists(st.integers(min_value=-2, max_value=12), max_size=8))
def test_a_cursor_is_the_highest_sequence_acknowledged(engine: Engine, acks: list[int]) -> None:
    if head_sequence(engine) == 0:
        line = make_line(engine, units=5)
        line.accept(*line.units)
    head = head_sequence(engine)
    consumer = f"c{abs(hash(tuple(acks))) % 10**12}-{len(acks)}"
    expected = consumer_cursor(engine, consumer)
    for ack in acks:
        if 0 <= ack <= head:
            expected = max(expected, ack)
            assert acknowledge(engine, consumer, ack, username=None) == expected
        else:
            with pytest.raises(AcknowledgementError):
                acknowledge(engine, consumer, ack, username=None)
        assert consumer_cursor(engine, consumer) == expected


def pack_pallet(line: Line) -> None:
    line.accept(*line.units[:6])
    case, other, pallet = line.cases[:3]
    line.ok(
        line.event(EventKind.AGGREGATED, case, children=line.units[:3], level="case"),
        line.event(EventKind.AGGREGATED, other, children=line.units[3:6], level="case"),
        line.event(EventKind.AGGREGATED, pallet, children=[case, other], level="pallet"),
    )


def test_the_aggregation_tree_above_and_below_a_code(engine: Engine) -> None:
    line = make_line(engine, units=8, cases=3)
    pack_pallet(line)
    case, other, pallet = line.cases[:3]
    unit = aggregation_tree(engine, line.units[4])
    assert unit is not None
    assert [a["code"] for a in unit["ancestors"]] == [other, pallet]
    top = aggregation_tree(engine, pallet)
    assert top is not None
    assert top["ancestors"] == []
    assert [c["code"] for c in top["tree"]["children"]] == [case, other]
    assert [u["code"] for u in top["tree"]["children"][1]["children"]] == line.units[3:6]
    assert aggregation_tree(engine, "no-such-code") is None


def test_a_codes_history_names_every_event_about_it(engine: Engine) -> None:
    line = make_line(engine, units=4, cases=1)
    line.accept(line.units[0])
    line.ok(
        line.event(EventKind.AGGREGATED, line.cases[0], children=[line.units[0]], level="case"),
        line.event(EventKind.CODES_VOIDED, keys=[line.units[1]], reason="batch end"),
    )
    packed = code_trace(engine, line.units[0])
    voided = code_trace(engine, line.units[1])
    untouched = code_trace(engine, line.units[2])
    assert packed is not None
    assert voided is not None
    assert untouched is not None
    assert [e["kind"] for e in packed["events"]] == [
        "unit.issued",
        "unit.accepted",
        "aggregation.packed",
    ]
    assert packed["batch"]["lot"] == "AB-123"
    assert [e["kind"] for e in voided["events"]] == ["codes.voided"]
    assert voided["state"] == "SNInvalid"
    assert untouched["events"] == []
    assert untouched["transitions"] == []
    assert code_trace(engine, "no-such-code") is None


def test_a_big_batch_export_leaves_its_events_to_paging(engine: Engine) -> None:
    line = make_line(engine, units=6)
    line.accept(*line.units)
    whole = batch_record(engine, line.batch)
    summarised = batch_record(engine, line.batch, max_events=5)
    assert whole is not None
    assert summarised is not None
    assert len(whole["events"]) == whole["events_total"] == 12
    assert summarised["events"] is None
    assert summarised["events_total"] == 12
    assert summarised["first_sequence"] < summarised["last_sequence"]
    assert summarised["verification"]["ok"]
    assert batch_record(engine, 999) is None


def test_an_unrecorded_note_is_passed_over(engine: Engine) -> None:
    line = make_line(engine, units=1)
    line.ok(
        line.event(EventKind.NOTE, topic="challenge", record={"topic": "reconciliation"}),
        JournalEvent(line.batch, EventKind.NOTE, data={"topic": "reconciliation", "balanced": 1}),
    )
    found = records(engine)
    assert [r["type"] for r in found] == ["batch_summary"]
