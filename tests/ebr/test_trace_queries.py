"""Tracing a code (history, containers, contents, batch and product) and a batch (every code,
a page at a time), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, event, text

from ebr.records import code_trace
from ebr.trace import batch_codes, trace_batch, trace_code
from tests.ebr.trace_fixtures import TracedBatch, traced_batch


@pytest.fixture
def traced(engine: Engine) -> TracedBatch:
    return traced_batch(engine)


def test_a_unit_traced_backward_and_forward(traced: TracedBatch) -> None:
    unit = traced.units[1]
    trace = trace_code(traced.engine, unit)
    assert trace is not None
    assert (trace.code, trace.level, trace.state) == (unit, "unit", "Commissioned")
    assert trace.batch is not None
    assert (trace.batch.id, trace.batch.lot, trace.batch.status) == (
        traced.batch,
        "L-1",
        "reconciled",
    )
    assert trace.batch.expiry is not None
    assert trace.batch.expiry.isoformat() == "2028-01-31"
    assert trace.batch.product.name == "阿莫西林胶囊"
    assert trace.batch.product.nmpa_drug_id == "8612345"
    assert trace.batch.manufacturer.uscc == "91110105MA01TG8P53"
    assert [(p.code, p.level) for p in trace.parents] == [
        (traced.cases[0], "case"),
        (traced.pallets[0], "pallet"),
    ]
    assert trace.children == []
    assert trace.shipments == []
    assert trace.recall is None
    kinds = [(entry.kind, entry.from_state, entry.to_state) for entry in trace.history]
    assert kinds == [
        ("unit.issued", "Allocated", "Encoded"),
        ("unit.accepted", "Encoded", "Commissioned"),
        ("aggregation.packed", None, None),
    ]
    assert all(entry.hash for entry in trace.history)
    assert [entry.seq for entry in trace.history] == sorted(e.seq or 0 for e in trace.history)


def test_a_pallet_holds_its_cases_and_their_units(traced: TracedBatch) -> None:
    trace = trace_code(traced.engine, traced.pallets[0])
    assert trace is not None
    assert trace.parents == []
    assert [(c.code, c.level) for c in trace.children] == [
        (traced.cases[0], "case"),
        (traced.cases[1], "case"),
    ]
    assert [u.code for u in trace.children[0].children] == traced.units[0:4]
    assert [u.code for u in trace.children[1].children] == traced.units[4:8]
    (packed,) = trace.history
    assert (packed.kind, packed.from_state, packed.to_state) == (
        "aggregation.packed",
        "Allocated",
        "Commissioned",
    )


def test_codes_that_left_production_show_why(traced: TracedBatch) -> None:
    sampled = trace_code(traced.engine, traced.units[8])
    rejected = trace_code(traced.engine, traced.units[9])
    voided = trace_code(traced.engine, traced.voided[0])
    assert sampled is not None
    assert rejected is not None
    assert voided is not None
    assert (sampled.state, sampled.history[-1].kind) == ("Sampled", "unit.sampled")
    assert (rejected.state, rejected.history[-1].to_state) == ("LabelScrapped", "LabelScrapped")
    assert (voided.state, voided.history[-1].kind) == ("SNInvalid", "codes.voided")
    assert trace_code(traced.engine, "0109501101530003" + "21NOSUCHCODE") is None


def test_a_batch_lists_every_code_with_state_and_parent(traced: TracedBatch) -> None:
    trace = trace_batch(traced.engine, traced.batch)
    assert trace is not None
    assert trace.total == 12 + 4 + 2
    assert trace.counts == {
        "unit": {"Commissioned": 10, "Sampled": 1, "LabelScrapped": 1},
        "case": {"Commissioned": 3, "SNInvalid": 1},
        "pallet": {"Commissioned": 1, "SNInvalid": 1},
    }
    assert trace.next_cursor is None
    parents = {code.code: code.parent for code in trace.codes}
    assert parents[traced.units[5]] == traced.cases[1]
    assert parents[traced.cases[1]] == traced.pallets[0]
    assert parents[traced.cases[2]] is None
    assert [c.code for c in batch_codes(traced.engine, traced.batch)] == [
        c.code for c in trace.codes
    ]
    assert trace_batch(traced.engine, 999) is None


def test_batch_pages_follow_the_cursor(traced: TracedBatch) -> None:
    seen: list[str] = []
    cursor = 0
    while True:
        page = trace_batch(traced.engine, traced.batch, cursor=cursor, limit=5)
        assert page is not None
        assert len(page.codes) <= 5
        seen += [code.code for code in page.codes]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == 18


def test_a_code_history_reads_the_journal_through_its_indexes(tmp_path: object) -> None:
    """SQLite picks the trace indexes even without ANALYZE statistics; a plan that searches the
    whole batch's journal would make a trace of a 100,000-unit batch slow (bench/trace.py)."""
    from ebr.db import make_engine
    from ebr.schema import upgrade

    engine = make_engine(f"sqlite:///{tmp_path}/plan.db")
    upgrade(engine)
    traced = traced_batch(engine)
    statements: list[tuple[str, object]] = []

    def remember(
        _conn: object, _cursor: object, statement: str, parameters: object, *_: object
    ) -> None:
        if "journal_events" in statement and statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", remember)
    assert code_trace(engine, traced.units[0]) is not None
    event.remove(engine, "before_cursor_execute", remember)
    assert len(statements) == 2
    with engine.connect() as conn:
        for statement, parameters in statements:
            plan = " ".join(
                str(row[-1])
                for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)  # type: ignore[arg-type]
            )
            assert (
                "ix_journal_events_code_key" in plan or "ix_journal_events_batch_id_kind" in plan
            ), plan
        conn.execute(text("SELECT 1"))
    engine.dispose()
