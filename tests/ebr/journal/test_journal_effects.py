from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from ebr.journal import EventKind, JournalEntry, JournalEvent, JournalRejectedError, verify_journal
from ebr.models import Code, CodeTransition
from serialization.states import CodeState
from tests.ebr.journal.journal_fixtures import Line, make_line

S = CodeState
K = EventKind


@pytest.fixture
def line(engine: Engine) -> Line:
    return make_line(engine)


def _verified(line: Line) -> None:
    result = verify_journal(line.engine, line.batch)
    assert (result.ok, result.states_match, result.problem) == (True, True, None)


def test_issue_then_accept_commissions_once(line: Line) -> None:
    key = line.units[0]
    line.ok(line.event(K.UNIT_ISSUED, key))
    assert line.state(key) is S.ENCODED
    line.ok(line.event(K.UNIT_ACCEPTED, key))
    assert line.state(key) is S.COMMISSIONED
    error = line.refused(line.event(K.UNIT_ACCEPTED, key))
    assert "Commissioned" in error.message
    assert "can be accepted" in str(error)
    assert error.hint
    with line.engine.connect() as conn:
        reasons = conn.execute(
            select(CodeTransition.reason)
            .join(Code, Code.id == CodeTransition.code_id)
            .where(Code.key == key)
            .order_by(CodeTransition.id)
        ).scalars()
        assert list(reasons) == [
            f"journal {line.batch}/1: unit.issued",
            f"journal {line.batch}/2: unit.accepted",
        ]
    _verified(line)


def test_issue_needs_an_allocated_code_of_this_batch(line: Line) -> None:
    line.ok(line.event(K.UNIT_ISSUED, line.units[0]))
    assert "Encoded" in line.refused(line.event(K.UNIT_ISSUED, line.units[0])).message
    foreign = line.refused(line.event(K.UNIT_ISSUED, line.other_units[0]))
    assert line.other_units[0] in foreign.message
    assert f"batch {line.other_batch}" in foreign.message
    unknown = line.refused(line.event(K.UNIT_ISSUED, "0109501101530003" + "21NOPE"))
    assert "unknown" in unknown.message
    assert "21NOPE" in unknown.message
    assert "names no code" in line.refused(line.event(K.UNIT_ISSUED)).message
    assert "unknown batch" in line.refused(line.event(K.NOTE, batch=999, topic="x")).message
    _verified(line)


def test_illegal_events_are_refused_one_by_one(line: Line) -> None:
    a, b, c = line.units[:3]
    results = line.append(
        line.event(K.UNIT_ISSUED, a),
        line.event(K.UNIT_ACCEPTED, b),
        line.event(K.UNIT_ACCEPTED, a),
        line.event(K.UNIT_ISSUED, a),
        line.event(K.UNIT_ISSUED, c),
    )
    kinds = [type(r) for r in results]
    assert kinds == [
        JournalEntry,
        JournalRejectedError,
        JournalEntry,
        JournalRejectedError,
        JournalEntry,
    ]
    assert [r.seq for r in results if isinstance(r, JournalEntry)] == [1, 2, 3]
    assert (line.state(a), line.state(b), line.state(c)) == (S.COMMISSIONED, S.ALLOCATED, S.ENCODED)
    _verified(line)


def test_event_data_must_be_plain_json(line: Line) -> None:
    error = line.refused(line.event(K.NOTE, topic="grade", value=1.5))
    assert "canonical JSON" in error.message
    assert "topic" in line.refused(line.event(K.NOTE)).message
    kinded = JournalEvent(line.batch, "line.note", data={"topic": "x"})  # type: ignore[arg-type]
    (entry,) = line.ok(kinded)
    assert entry.event.kind is K.NOTE


def test_rejection_depends_on_how_far_the_unit_got(line: Line) -> None:
    allocated, encoded, accepted = line.units[:3]
    line.ok(line.event(K.UNIT_ISSUED, encoded))
    line.accept(accepted)
    line.ok(
        *(
            line.event(K.UNIT_REJECTED, key, reason="camera", detail="no read")
            for key in (allocated, encoded, accepted)
        ),
        line.event(K.UNIT_REJECTED, None, reason="camera", detail="no code at all"),
    )
    assert [line.state(k) for k in (allocated, encoded, accepted)] == [
        S.SN_INVALID,
        S.LABEL_SCRAPPED,
        S.DESTROYED,
    ]
    assert "reason" in line.refused(line.event(K.UNIT_REJECTED, line.units[3])).message
    assert (
        "LabelScrapped"
        in line.refused(line.event(K.UNIT_REJECTED, encoded, reason="again", detail="")).message
    )
    line.ok(line.event(K.REJECT_CONFIRMED, encoded), line.event(K.REJECT_MISSED, accepted))
    assert line.state(encoded) is S.LABEL_SCRAPPED
    _verified(line)


def test_voiding_is_all_or_nothing_per_event(line: Line) -> None:
    a, b, c, d = line.units[:4]
    line.ok(line.event(K.UNIT_ISSUED, b))
    line.accept(c)
    error = line.refused(line.event(K.CODES_VOIDED, keys=[a, b, c], reason="end"))
    assert c in error.message
    assert (line.state(a), line.state(b)) == (S.ALLOCATED, S.ENCODED)
    line.ok(line.event(K.CODES_VOIDED, keys=[a, b], reason="end"))
    assert (line.state(a), line.state(b)) == (S.SN_INVALID, S.LABEL_SCRAPPED)
    assert "twice" in line.refused(line.event(K.CODES_VOIDED, keys=[d, d], reason="x")).message
    assert "code_key" in line.refused(line.event(K.CODES_VOIDED, d, keys=[d], reason="x")).message
    other = line.refused(line.event(K.CODES_VOIDED, keys=[d, line.other_units[0]], reason="x"))
    assert line.other_units[0] in other.message
    assert line.state(d) is S.ALLOCATED
    _verified(line)


def test_sampling_and_destruction(line: Line) -> None:
    kept, tested, broken, fresh = line.units[:4]
    line.accept(kept, tested, broken)
    line.ok(
        line.event(K.UNIT_SAMPLED, kept, reason="visual", destructive=False, user="qa"),
        line.event(K.UNIT_SAMPLED, tested, reason="assay", destructive=True, user="qa"),
        line.event(K.UNIT_DESTROYED, tested, reason="assay done", user="qa"),
        line.event(K.UNIT_DESTROYED, broken, reason="dropped", user="op"),
    )
    assert [line.state(k) for k in (kept, tested, broken)] == [
        S.COMMISSIONED,
        S.DESTROYED,
        S.DESTROYED,
    ]
    no_flag = line.refused(line.event(K.UNIT_SAMPLED, kept, reason="x", user="qa"))
    assert "destructive" in no_flag.message
    line.ok(line.event(K.UNIT_ISSUED, fresh))
    for kind in (K.UNIT_SAMPLED, K.UNIT_DESTROYED):
        error = line.refused(line.event(kind, fresh, reason="x", destructive=True, user="qa"))
        assert "Encoded" in error.message
    _verified(line)


def test_packing_a_case_commissions_its_label(line: Line) -> None:
    case, printed = line.cases[:2]
    units = line.units[:5]
    line.accept(*units)
    line.ok(line.event(K.AGGREGATED, case, children=units[:3], level="case"))
    assert line.state(case) is S.COMMISSIONED
    assert [line.parent(u) for u in units] == [case, case, case, None, None]
    line.ok(line.event(K.UNIT_ISSUED, printed))
    line.ok(line.event(K.AGGREGATED, printed, children=units[3:], level="case"))
    assert line.state(printed) is S.COMMISSIONED
    _verified(line)


@pytest.mark.parametrize(
    ("child", "message"),
    [
        ("in_case", "child {key} already in case {case}"),
        ("foreign", "child {key} is from batch {other}, case is batch {batch}"),
        ("scrapped", "child {key} is LabelScrapped, only Commissioned units can be packed"),
        ("unaccepted", "child {key} is Encoded, only Commissioned units can be packed"),
        ("unknown", "child {key} is unknown"),
    ],
)
def test_packing_rules(line: Line, child: str, message: str) -> None:
    case, second = line.cases[:2]
    packed, scrapped, unaccepted, good = line.units[:4]
    line.accept(packed, good)
    line.ok(line.event(K.AGGREGATED, case, children=[packed], level="case"))
    line.ok(line.event(K.UNIT_ISSUED, scrapped), line.event(K.UNIT_ISSUED, unaccepted))
    line.ok(line.event(K.UNIT_REJECTED, scrapped, reason="grade", detail="F"))
    line.ok(line.event(K.UNIT_ISSUED, line.other_units[0], batch=line.other_batch))
    line.ok(line.event(K.UNIT_ACCEPTED, line.other_units[0], batch=line.other_batch))
    key = {
        "in_case": packed,
        "foreign": line.other_units[0],
        "scrapped": scrapped,
        "unaccepted": unaccepted,
        "unknown": "0109501101530003" + "21NOPE",
    }[child]
    error = line.refused(line.event(K.AGGREGATED, second, children=[good, key], level="case"))
    assert message.format(key=key, case=case, other=line.other_batch, batch=line.batch) in (
        error.message
    )
    assert line.state(second) is S.ALLOCATED
    assert line.parent(good) is None
    _verified(line)


def test_a_case_label_must_be_new(line: Line) -> None:
    case = line.cases[0]
    line.accept(*line.units[:2])
    line.ok(line.event(K.AGGREGATED, case, children=line.units[:1], level="case"))
    error = line.refused(line.event(K.AGGREGATED, case, children=line.units[1:2], level="case"))
    assert "Commissioned" in error.message
    assert (
        "twice"
        in line.refused(
            line.event(K.AGGREGATED, line.cases[1], children=[line.units[1]] * 2, level="case")
        ).message
    )
    assert (
        "children"
        in line.refused(line.event(K.AGGREGATED, line.cases[1], children=[], level="case")).message
    )


def test_adding_and_removing_children(line: Line) -> None:
    case, other_case = line.cases[:2]
    a, b, c = line.units[:3]
    line.accept(a, b, c)
    line.ok(line.event(K.AGGREGATED, case, children=[a], level="case"))
    line.ok(line.event(K.AGGREGATED, other_case, children=[c], level="case"))
    line.ok(line.event(K.CHILD_ADDED, case, child=b))
    assert line.parent(b) == case
    assert (
        f"already in case {case}"
        in line.refused(line.event(K.CHILD_ADDED, other_case, child=b)).message
    )
    error = line.refused(line.event(K.CHILD_REMOVED, other_case, child=b))
    assert f"not in case {other_case}" in error.message
    line.ok(line.event(K.CHILD_REMOVED, case, child=b))
    assert line.parent(b) is None
    assert "Allocated" in line.refused(line.event(K.CHILD_ADDED, line.cases[2], child=b)).message
    _verified(line)


def test_unpacking_destroys_the_label_and_frees_the_children(line: Line) -> None:
    case = line.cases[0]
    units = line.units[:3]
    line.accept(*units)
    line.ok(line.event(K.AGGREGATED, case, children=units, level="case"))
    line.ok(line.event(K.UNPACKED, case, reason="rework"))
    assert line.state(case) is S.DESTROYED
    assert [line.parent(u) for u in units] == [None, None, None]
    assert [line.state(u) for u in units] == [S.COMMISSIONED] * 3
    assert "Destroyed" in line.refused(line.event(K.UNPACKED, case, reason="again")).message
    line.ok(line.event(K.AGGREGATED, line.cases[1], children=units, level="case"))
    _verified(line)


def test_replacing_a_label_moves_the_children(line: Line) -> None:
    old, new = line.cases[:2]
    units = line.units[:3]
    line.accept(*units)
    line.ok(line.event(K.AGGREGATED, old, children=units, level="case"))
    line.ok(line.event(K.LABEL_REPLACED, new, old=old, reason="torn label"))
    assert (line.state(old), line.state(new)) == (S.DESTROYED, S.COMMISSIONED)
    assert [line.parent(u) for u in units] == [new] * 3
    assert (
        "Destroyed"
        in line.refused(line.event(K.LABEL_REPLACED, line.cases[2], old=old, reason="x")).message
    )
    _verified(line)


def test_nested_aggregates_keep_their_place_on_relabel(line: Line) -> None:
    pallet, case, new_case = line.cases[:3]
    units = line.units[:2]
    line.accept(*units)
    line.ok(line.event(K.AGGREGATED, case, children=units, level="case"))
    line.ok(line.event(K.AGGREGATED, pallet, children=[case], level="pallet"))
    line.ok(line.event(K.LABEL_REPLACED, new_case, old=case, reason="torn"))
    assert (line.parent(new_case), line.parent(case)) == (pallet, None)
    line.ok(line.event(K.UNIT_DESTROYED, units[0], reason="damaged", user="op"))
    assert line.parent(units[0]) is None
    assert line.parent(units[1]) == new_case
    _verified(line)


def test_destroying_an_accepted_unit_takes_it_out_of_its_case(line: Line) -> None:
    case = line.cases[0]
    unit = line.units[0]
    line.accept(unit)
    line.ok(line.event(K.AGGREGATED, case, children=[unit], level="case"))
    line.ok(line.event(K.UNIT_REJECTED, unit, reason="gate", detail="accept revoked"))
    assert (line.state(unit), line.parent(unit)) == (S.DESTROYED, None)
    _verified(line)


def test_batch_phase_sets_the_status(line: Line) -> None:
    before = line.status()
    phase = {"from": before, "to": "running", "user": "olga", "reason": "cleared"}
    line.ok(line.event(K.BATCH_PHASE, **phase))
    assert line.status() == "running"
    stale = line.refused(line.event(K.BATCH_PHASE, **phase))
    assert f"'running', not {before!r}" in stale.message
    long = line.refused(line.event(K.BATCH_PHASE, to="x" * 17))
    assert "16 characters" in long.message
    _verified(line)


def test_events_of_one_call_see_each_other(line: Line) -> None:
    case = line.cases[0]
    units = line.units[:3]
    line.ok(
        *(line.event(K.UNIT_ISSUED, u) for u in units),
        *(line.event(K.UNIT_ACCEPTED, u) for u in units),
        line.event(K.AGGREGATED, case, children=units, level="case"),
        line.event(K.CHILD_REMOVED, case, child=units[0]),
        line.event(K.UNIT_DESTROYED, units[0], reason="dropped", user="op"),
        line.event(K.UNPACKED, case, reason="rework"),
    )
    assert [line.state(u) for u in units] == [S.DESTROYED, S.COMMISSIONED, S.COMMISSIONED]
    assert [line.parent(u) for u in units] == [None, None, None]
    _verified(line)
