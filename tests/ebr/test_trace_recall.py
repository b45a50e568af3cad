"""Recall marking: what a recall changes, what it leaves, who may do it, and that a refused
recall writes nothing — on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from ebr.audit.models import AuditEntry
from ebr.audit.trail import AuditTrail
from ebr.code_states import CodeStates
from ebr.errors import NotFoundError
from ebr.journal import EventKind, Journal, JournalEvent, JournalRejectedError, verify_journal
from ebr.models import JournalEventRow
from ebr.recall import (
    MAX_KEYS_PER_EVENT,
    RecallConflictError,
    RecallError,
    recall_batch,
    recall_codes,
)
from ebr.trace import trace_batch, trace_code
from ebr.users import PermissionDeniedError, Users
from serialization.errors import IllegalTransitionError
from serialization.states import CodeState
from tests.ebr.trace_fixtures import (
    ADMIN_PASSWORD,
    PASSWORD,
    TracedBatch,
    login,
    site_users,
    traced_batch,
)


@pytest.fixture
def traced(engine: Engine) -> TracedBatch:
    return traced_batch(engine)


@pytest.fixture
def users(engine: Engine) -> Users:
    return site_users(AuditTrail(engine))


def _journal_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return len(conn.execute(select(JournalEventRow.id)).all())


def _verified(traced: TracedBatch) -> None:
    result = verify_journal(traced.engine, traced.batch)
    assert (result.ok, result.states_match, result.problem) == (True, True, None)


def test_a_batch_recall_marks_every_saleable_code_and_leaves_the_rest(
    traced: TracedBatch, users: Users
) -> None:
    qa = login(users, "qa1")
    outcome = recall_batch(traced.engine, qa, traced.batch, reason="nitrosamine above limit")
    saleable = [*traced.units[0:8], *traced.units[10:12], *traced.cases, *traced.pallets]
    assert sorted(outcome.recalled) == sorted(saleable)
    assert outcome.unchanged == {
        traced.units[8]: "Sampled",
        traced.units[9]: "LabelScrapped",
        traced.voided[0]: "SNInvalid",
        traced.voided[1]: "SNInvalid",
    }
    assert outcome.already_recalled == []
    trace = trace_code(traced.engine, traced.units[2])
    assert trace is not None
    assert trace.state == "Inactive"
    assert [p.code for p in trace.parents] == [traced.cases[0], traced.pallets[0]]
    assert trace.recall is not None
    assert (trace.recall.user, trace.recall.reason, trace.recall.scope) == (
        "qa1",
        "nitrosamine above limit",
        "batch",
    )
    (entry,) = outcome.entries
    assert entry[0] == traced.batch
    assert trace.history[-1].kind == "codes.recalled"
    assert (trace.history[-1].from_state, trace.history[-1].to_state) == (
        "Commissioned",
        "Inactive",
    )
    batch = trace_batch(traced.engine, traced.batch)
    assert batch is not None
    assert [(m.codes, m.user) for m in batch.recalls] == [(len(saleable), "qa1")]
    assert batch.counts["unit"] == {"Inactive": 10, "Sampled": 1, "LabelScrapped": 1}
    _verified(traced)

    again = recall_batch(traced.engine, qa, traced.batch, reason="repeated")
    assert (again.recalled, again.entries) == ([], [])
    assert sorted(again.already_recalled) == sorted(saleable)


def test_the_recall_is_in_the_audit_trail_under_the_user(traced: TracedBatch, users: Users) -> None:
    supervisor = login(users, "sup1")
    recall_batch(traced.engine, supervisor, traced.batch, reason="label mix-up")
    with traced.engine.connect() as conn:
        rows = conn.execute(
            select(AuditEntry.username, AuditEntry.reason, AuditEntry.new_value).where(
                AuditEntry.event == "codes.recalled"
            )
        ).all()
    assert len(rows) == 1
    username, reason, new = rows[0]
    assert (username, reason) == ("sup1", "label mix-up")
    assert '"codes":14' in new.replace(" ", "")
    assert '"scope":"batch"' in new.replace(" ", "")


def test_recalling_codes_takes_what_is_packed_in_them(traced: TracedBatch, users: Users) -> None:
    qa = login(users, "qa1")
    outcome = recall_codes(
        traced.engine, qa, [traced.cases[1], traced.units[10]], reason="damaged in storage"
    )
    assert sorted(outcome.recalled) == sorted(
        [traced.cases[1], *traced.units[4:8], traced.units[10]]
    )
    for key in (traced.units[0], traced.cases[0], traced.pallets[0], traced.units[11]):
        trace = trace_code(traced.engine, key)
        assert trace is not None
        assert trace.state == "Commissioned"
    units = recall_codes(traced.engine, qa, [traced.pallets[0]], reason="whole pallet")
    assert sorted(units.recalled) == sorted(
        [traced.pallets[0], traced.cases[0], *traced.units[0:4]]
    )
    assert sorted(units.already_recalled) == sorted([traced.cases[1], *traced.units[4:8]])
    _verified(traced)


def test_a_recalled_code_is_never_released_packed_or_moved_again(
    traced: TracedBatch, users: Users
) -> None:
    qa = login(users, "qa1")
    recall_codes(traced.engine, qa, [traced.cases[2]], reason="recall")
    unit = traced.units[10]
    with pytest.raises(IllegalTransitionError, match="Inactive to Released"):
        CodeStates(traced.engine).mark([unit], CodeState.RELEASED, reason="ship")
    journal = Journal(traced.engine)
    for kind, key, data in (
        (EventKind.CHILD_REMOVED, traced.cases[2], {"child": unit}),
        (EventKind.UNPACKED, traced.cases[2], {"reason": "rework"}),
        (EventKind.UNIT_SAMPLED, unit, {"reason": "QA", "destructive": True}),
    ):
        (result,) = journal.append_many([JournalEvent(traced.batch, kind, code_key=key, data=data)])
        assert isinstance(result, JournalRejectedError), kind
        assert "Inactive" in result.message
    (destroyed,) = journal.append_many(
        [
            JournalEvent(
                traced.batch, EventKind.UNIT_DESTROYED, code_key=unit, data={"reason": "recalled"}
            )
        ]
    )
    assert not isinstance(destroyed, JournalRejectedError)
    trace = trace_code(traced.engine, unit)
    assert trace is not None
    assert (trace.state, trace.parents) == ("Destroyed", [])
    assert trace.recall is not None
    assert trace.recall.reason == "recall"
    again = recall_codes(traced.engine, qa, [unit], reason="again")
    assert again.unchanged == {unit: "Destroyed"}
    _verified(traced)


@pytest.mark.parametrize("name", ["op1", "admin"])
def test_only_qa_or_a_supervisor_may_recall(traced: TracedBatch, users: Users, name: str) -> None:
    session = users.login(name, ADMIN_PASSWORD if name == "admin" else PASSWORD)
    before = _journal_count(traced.engine)
    with pytest.raises(PermissionDeniedError) as refused:
        recall_batch(traced.engine, session, traced.batch, reason="x")
    assert "only QA or a supervisor" in refused.value.message
    assert refused.value.hint
    assert _journal_count(traced.engine) == before


def test_refused_recalls_write_nothing(traced: TracedBatch, users: Users) -> None:
    qa = login(users, "qa1")
    before = _journal_count(traced.engine)
    with pytest.raises(RecallConflictError) as running:
        recall_codes(traced.engine, qa, [traced.other_units[0]], reason="x")
    assert "running" in running.value.message
    assert "production is over" in running.value.message
    with pytest.raises(NotFoundError) as unknown:
        recall_codes(traced.engine, qa, [traced.units[0], "NO-SUCH-CODE"], reason="x")
    assert "1 of the 2 codes" in unknown.value.message
    assert "NO-SUCH-CODE" in unknown.value.message
    with pytest.raises(NotFoundError, match="unknown batch 999"):
        recall_batch(traced.engine, qa, 999, reason="x")
    for reason, message in (("  ", "needs a reason"), ("x" * 501, "more than 500")):
        with pytest.raises(RecallError, match=message):
            recall_batch(traced.engine, qa, traced.batch, reason=reason)
    with pytest.raises(RecallError, match="control characters"):
        recall_batch(traced.engine, qa, traced.batch, reason="bad\x00reason")
    with pytest.raises(RecallError, match="no codes"):
        recall_codes(traced.engine, qa, [], reason="x")
    assert _journal_count(traced.engine) == before
    assert trace_code(traced.engine, traced.units[0]) is not None


def test_a_large_recall_is_split_into_events_of_bounded_size(
    traced: TracedBatch, users: Users, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ebr.recall

    monkeypatch.setattr(ebr.recall, "MAX_KEYS_PER_EVENT", 4)
    assert MAX_KEYS_PER_EVENT == 10_000
    outcome = recall_batch(traced.engine, login(users, "qa1"), traced.batch, reason="split")
    assert len(outcome.recalled) == 14
    assert [seq for _batch, seq in outcome.entries] == [outcome.entries[0][1] + n for n in range(4)]
    _verified(traced)


def test_a_recalled_unit_can_be_taken_out_of_a_case_that_is_not_recalled(
    traced: TracedBatch, users: Users
) -> None:
    unit, case = traced.units[10], traced.cases[2]
    recall_codes(traced.engine, login(users, "qa1"), [unit], reason="one damaged unit")
    case_trace = trace_code(traced.engine, case)
    assert case_trace is not None
    assert case_trace.state == "Commissioned"
    journal = Journal(traced.engine)
    (removed,) = journal.append_many(
        [JournalEvent(traced.batch, EventKind.CHILD_REMOVED, code_key=case, data={"child": unit})]
    )
    assert not isinstance(removed, JournalRejectedError), removed
    trace = trace_code(traced.engine, unit)
    assert trace is not None
    assert (trace.state, trace.parents) == ("Inactive", [])
    _verified(traced)
