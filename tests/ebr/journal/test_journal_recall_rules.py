"""The journal's rules for `codes.recalled`, driven by Hypothesis through the same planner the
journal and its verifier use (in memory): a recalled code is Inactive, nothing but destruction
changes its state again, and a recalled case or pallet keeps its contents (a recalled unit
leaves only a case that is not recalled, when it is taken out or the case is unpacked)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ebr.journal.effects import CodeRow, CodeView, plan
from ebr.journal.events import EventKind, JournalEvent, JournalRejectedError
from serialization.states import CodeState

S = CodeState
BATCH = 1
UNITS = [f"u{n}" for n in range(6)]
CASES = ["c0", "c1"]


def _view() -> CodeView:
    """Units u0–u3 accepted, u4 and u5 still to print; the case labels unused."""
    states = [S.COMMISSIONED] * 4 + [S.ALLOCATED] * 2 + [S.ALLOCATED] * len(CASES)
    rows = [
        CodeRow(n, key, state, BATCH)
        for n, (key, state) in enumerate(zip(UNITS + CASES, states, strict=True), start=1)
    ]
    return CodeView.of(rows, {BATCH: "reconciled"})


unit = st.sampled_from(UNITS)
case = st.sampled_from(CASES)
events = st.one_of(
    st.builds(lambda k: JournalEvent(BATCH, EventKind.UNIT_ISSUED, code_key=k), unit),
    st.builds(lambda k: JournalEvent(BATCH, EventKind.UNIT_ACCEPTED, code_key=k), unit),
    st.builds(
        lambda c, ks: JournalEvent(BATCH, EventKind.AGGREGATED, code_key=c, data={"children": ks}),
        case,
        st.lists(unit, min_size=1, max_size=3, unique=True),
    ),
    st.builds(
        lambda c, k: JournalEvent(BATCH, EventKind.CHILD_REMOVED, code_key=c, data={"child": k}),
        case,
        unit,
    ),
    st.builds(
        lambda c: JournalEvent(BATCH, EventKind.UNPACKED, code_key=c, data={"reason": "x"}), case
    ),
    st.builds(
        lambda k: JournalEvent(
            BATCH, EventKind.UNIT_SAMPLED, code_key=k, data={"reason": "x", "destructive": True}
        ),
        unit,
    ),
    st.builds(
        lambda k: JournalEvent(BATCH, EventKind.UNIT_DESTROYED, code_key=k, data={"reason": "x"}),
        unit,
    ),
    st.builds(
        lambda ks: JournalEvent(
            BATCH, EventKind.CODES_RECALLED, data={"keys": ks, "reason": "r", "user": "qa1"}
        ),
        st.lists(st.sampled_from(UNITS + CASES), min_size=1, max_size=2, unique=True),
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(events, max_size=40))
def test_a_recalled_code_only_ever_leaves_inactive_to_be_destroyed(
    sequence: list[JournalEvent],
) -> None:
    view = _view()
    recalled: set[str] = set()
    for event in sequence:
        before = {key: (row.state, row.parent_key) for key, row in view.rows.items()}
        try:
            effects = plan(event, view)
        except JournalRejectedError:
            after = {key: (row.state, row.parent_key) for key, row in view.rows.items()}
            assert after == before
            continue
        view.apply(effects, "")
        if event.kind is EventKind.CODES_RECALLED:
            keys = list(event.data["keys"])
            assert all(before[key][0] in (S.COMMISSIONED, S.RELEASED) for key in keys)
            assert all(view.rows[key].state is S.INACTIVE for key in keys)
            assert all(view.rows[key].parent_key == before[key][1] for key in keys)
            recalled.update(keys)
        for key, row in view.rows.items():
            if before[key][0] is S.INACTIVE:
                assert row.state in (S.INACTIVE, S.DESTROYED), (event, key)
                old_parent = before[key][1]
                moved = row.parent_key != old_parent and old_parent is not None
                if moved and row.state is S.INACTIVE:
                    assert before[old_parent][0] is not S.INACTIVE, (event, key)
            if row.state is S.INACTIVE:
                assert key in recalled


def test_a_recall_names_its_codes_a_reason_and_a_user() -> None:
    view = _view()
    good = {"keys": ["u0"], "reason": "r", "user": "qa1"}
    for data, message in (
        ({**good, "keys": []}, "non-empty list"),
        ({**good, "keys": ["u0", "u0"]}, "twice"),
        ({**good, "reason": ""}, "reason"),
        ({key: value for key, value in good.items() if key != "user"}, "user"),
        ({**good, "keys": ["u4"]}, "Allocated; only a code that is Commissioned or Released"),
        ({**good, "keys": ["nope"]}, "unknown"),
    ):
        event = JournalEvent(BATCH, EventKind.CODES_RECALLED, data=data)
        with pytest.raises(JournalRejectedError) as refused:
            plan(event, view)
        assert message in refused.value.message, data
    named = JournalEvent(BATCH, EventKind.CODES_RECALLED, code_key="u0", data=good)
    with pytest.raises(JournalRejectedError, match=r"data\['keys'\], not in code_key"):
        plan(named, view)
