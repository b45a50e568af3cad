"""The per-code state machine (OPC 30260 OPENSCSSerialNumberStateEnum) as one transition table."""

from __future__ import annotations

import itertools
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from serialization.errors import IllegalTransitionError, SerializationError
from serialization.states import (
    TERMINAL,
    TRANSITIONS,
    CodeState,
    can_transition,
    sources_of,
    transition,
)

S = CodeState
ALL_STATES = tuple(CodeState)
ALL_PAIRS = tuple(itertools.product(ALL_STATES, ALL_STATES))
LEGAL_PAIRS = tuple((old, new) for old, new in ALL_PAIRS if new in TRANSITIONS[old])
ILLEGAL_PAIRS = tuple((old, new) for old, new in ALL_PAIRS if new not in TRANSITIONS[old])

NODESET = Path(
    os.environ.get(
        "TRACEGATE_OPENSCS_NODESET",
        str(
            Path(__file__).resolve().parents[3]
            / "shared/standards/opcua/Opc.Ua.OPENSCS.NodeSet2.xml"
        ),
    )
)

#: OPC 30260 OPENSCSSerialNumberStateEnum, written out from the specification so the numbers are
#: pinned even where the NodeSet file is not at hand.
OPENSCS_VALUES = {
    "Unassigned": 0,
    "Unallocated": 1,
    "Allocated": 2,
    "SNInvalid": 3,
    "Encoded": 4,
    "LabelSampled": 5,
    "LabelScrapped": 6,
    "Commissioned": 7,
    "Sampled": 8,
    "Inactive": 9,
    "Destroyed": 10,
    "Released": 11,
}


# --- The numbers are OPC 30260's -----------------------------------------------------------------


def _nodeset_enum_fields() -> dict[str, int]:
    """`{label: value}` of OPENSCSSerialNumberStateEnum, read from the OPC UA NodeSet."""
    root = ET.parse(NODESET).getroot()
    for node in root.iter():
        if node.tag.rsplit("}", 1)[-1] != "UADataType":
            continue
        if node.get("BrowseName", "").split(":", 1)[-1] != "OPENSCSSerialNumberStateEnum":
            continue
        fields: dict[str, int] = {}
        for element in node.iter():
            if element.tag.rsplit("}", 1)[-1] != "Field":
                continue
            name, value = element.get("Name"), element.get("Value")
            assert name is not None
            assert value is not None
            # NodeSet field names carry their value as a suffix: "Unassigned0", "Released11".
            assert name.endswith(value), name
            fields[name.removesuffix(value)] = int(value)
        return fields
    raise AssertionError("OPENSCSSerialNumberStateEnum not found in the NodeSet")


@pytest.mark.skipif(not NODESET.is_file(), reason=f"OPC 30260 NodeSet not found at {NODESET}")
def test_numbers_and_labels_match_the_openscs_nodeset() -> None:
    fields = _nodeset_enum_fields()
    assert len(fields) == 12
    assert fields == OPENSCS_VALUES
    assert {state.label: state.value for state in CodeState} == fields


def test_numbers_and_labels_match_opc_30260() -> None:
    assert len(CodeState) == 12
    assert [state.value for state in CodeState] == list(range(12))
    for state in CodeState:
        assert OPENSCS_VALUES[state.label] == state.value
    assert CodeState(0) is S.UNASSIGNED
    assert CodeState(11) is S.RELEASED
    assert S.SN_INVALID.label == "SNInvalid"


# --- The table -----------------------------------------------------------------------------------


def test_table_covers_every_state_and_only_states() -> None:
    assert set(TRANSITIONS) == set(CodeState)
    for old, targets in TRANSITIONS.items():
        assert isinstance(targets, frozenset)
        assert targets <= set(CodeState)
        assert old not in targets, f"{old.label} has a self-loop"


def test_terminal_states_are_exactly_those_without_moves() -> None:
    assert {S.SN_INVALID, S.LABEL_SAMPLED, S.LABEL_SCRAPPED, S.DESTROYED} == TERMINAL
    for state in CodeState:
        assert (state in TERMINAL) == (not TRANSITIONS[state])


@pytest.mark.parametrize("state", sorted(TERMINAL), ids=lambda s: s.label)
def test_terminal_states_have_no_moves(state: CodeState) -> None:
    assert TRANSITIONS[state] == frozenset()
    for target in CodeState:
        assert not can_transition(state, target)
        with pytest.raises(IllegalTransitionError) as info:
            transition(state, target, code="c1")
        assert info.value.hint == f"from {state.label} a code may move to: none (final state)"


def test_the_documented_moves() -> None:
    """Spot checks of the life of a code against OPC 30260's state diagram."""
    assert TRANSITIONS[S.UNASSIGNED] == {S.UNALLOCATED, S.SN_INVALID}
    assert TRANSITIONS[S.ALLOCATED] == {S.ENCODED, S.UNALLOCATED, S.SN_INVALID}
    assert TRANSITIONS[S.ENCODED] == {
        S.COMMISSIONED,
        S.LABEL_SAMPLED,
        S.LABEL_SCRAPPED,
        S.SN_INVALID,
    }
    assert TRANSITIONS[S.COMMISSIONED] == {S.SAMPLED, S.INACTIVE, S.DESTROYED, S.RELEASED}
    assert TRANSITIONS[S.INACTIVE] == {S.COMMISSIONED, S.DESTROYED}


def test_every_state_is_reachable_from_unassigned() -> None:
    seen = {S.UNASSIGNED}
    frontier = [S.UNASSIGNED]
    while frontier:
        for target in TRANSITIONS[frontier.pop()]:
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(CodeState)


def test_no_pool_state_is_reachable_after_encoded() -> None:
    """Nothing after Encoded leads back to a pool state (Unassigned, Unallocated, Allocated)."""
    pool = {S.UNASSIGNED, S.UNALLOCATED, S.ALLOCATED}
    after_encoded = {S.ENCODED}
    frontier = [S.ENCODED]
    while frontier:
        for target in TRANSITIONS[frontier.pop()]:
            if target not in after_encoded:
                after_encoded.add(target)
                frontier.append(target)
    assert not after_encoded & pool


# --- transition / can_transition, exhaustively ---------------------------------------------------


def test_pairs_partition_the_144_moves() -> None:
    assert len(ALL_PAIRS) == 144
    assert len(LEGAL_PAIRS) + len(ILLEGAL_PAIRS) == 144
    assert len(LEGAL_PAIRS) == sum(len(targets) for targets in TRANSITIONS.values()) == 22


@pytest.mark.parametrize(("old", "new"), LEGAL_PAIRS, ids=lambda s: s.label)
def test_legal_move_returns_the_target(old: CodeState, new: CodeState) -> None:
    assert can_transition(old, new)
    assert transition(old, new) is new
    assert transition(old, new, code="0109501101530003217Q2XK9PZ4M") is new


@pytest.mark.parametrize(("old", "new"), ILLEGAL_PAIRS, ids=lambda s: s.label)
def test_illegal_move_raises_with_code_and_allowed_targets(old: CodeState, new: CodeState) -> None:
    code = "0109501101530003217Q2XK9PZ4M"
    assert not can_transition(old, new)
    with pytest.raises(IllegalTransitionError) as info:
        transition(old, new, code=code)
    error = info.value
    assert isinstance(error, SerializationError)
    assert isinstance(error, ValueError)
    assert error.field == code
    assert error.message == f"cannot move from {old.label} to {new.label}"
    assert error.hint is not None
    prefix = f"from {old.label} a code may move to: "
    assert error.hint.startswith(prefix)
    listed = error.hint.removeprefix(prefix)
    if TRANSITIONS[old]:
        assert listed.split(", ") == [s.label for s in sorted(TRANSITIONS[old])]
        assert new.label not in listed.split(", ")
    else:
        assert listed == "none (final state)"
    assert str(error).startswith(f"{code}: cannot move from {old.label} to {new.label}")


def test_illegal_move_without_a_code_has_no_field() -> None:
    with pytest.raises(IllegalTransitionError) as info:
        transition(S.DESTROYED, S.RELEASED)
    assert info.value.field is None
    assert str(info.value) == (
        "cannot move from Destroyed to Released "
        "(from Destroyed a code may move to: none (final state))"
    )


def test_the_hint_lists_allowed_targets_in_numeric_order() -> None:
    with pytest.raises(IllegalTransitionError) as info:
        transition(S.COMMISSIONED, S.ALLOCATED, code="X")
    assert info.value.hint == (
        "from Commissioned a code may move to: Sampled, Inactive, Destroyed, Released"
    )


# --- sources_of is the inverse of the table ------------------------------------------------------


@pytest.mark.parametrize("new", ALL_STATES, ids=lambda s: s.label)
def test_sources_of_is_the_inverse_of_the_table(new: CodeState) -> None:
    expected = frozenset(old for old in CodeState if new in TRANSITIONS[old])
    assert sources_of(new) == expected
    for old in CodeState:
        assert (old in sources_of(new)) == can_transition(old, new)


def test_sources_of_known_states() -> None:
    assert sources_of(S.UNASSIGNED) == {S.UNALLOCATED}
    assert sources_of(S.ALLOCATED) == {S.UNALLOCATED}
    assert sources_of(S.ENCODED) == {S.ALLOCATED}
    assert sources_of(S.COMMISSIONED) == {S.ENCODED, S.INACTIVE}
    assert sources_of(S.SN_INVALID) == {S.UNASSIGNED, S.UNALLOCATED, S.ALLOCATED, S.ENCODED}
    assert sources_of(S.DESTROYED) == {S.COMMISSIONED, S.SAMPLED, S.INACTIVE, S.RELEASED}
    assert sources_of(S.LABEL_SAMPLED) == {S.ENCODED}
    assert sources_of(S.LABEL_SCRAPPED) == {S.ENCODED}


def test_rebuilding_the_table_from_sources_of_gives_the_table() -> None:
    rebuilt: dict[CodeState, set[CodeState]] = {state: set() for state in CodeState}
    for new in CodeState:
        for old in sources_of(new):
            rebuilt[old].add(new)
    assert rebuilt == {state: set(targets) for state, targets in TRANSITIONS.items()}


# --- Random lives of a code ----------------------------------------------------------------------


class CodeLife(RuleBasedStateMachine):
    """One code, pushed by random moves, legal or not, through the state machine."""

    @initialize(start=st.sampled_from([S.UNASSIGNED, S.UNALLOCATED]))
    def start(self, start: CodeState) -> None:
        self.state = start
        self.history = [start]

    @rule(new=st.sampled_from(ALL_STATES))
    def move(self, new: CodeState) -> None:
        old = self.state
        if new in TRANSITIONS[old]:
            assert transition(old, new, code="c") is new
            self.state = new
            self.history.append(new)
            return
        with pytest.raises(IllegalTransitionError) as info:
            transition(old, new, code="c")
        assert info.value.field == "c"
        assert self.state is old

    @rule(data=st.data())
    def legal_move(self, data: st.DataObject) -> None:
        """Mostly legal moves, so walks get deep into the life of a code."""
        targets = sorted(TRANSITIONS[self.state])
        if not targets:
            return
        target = data.draw(st.sampled_from(targets))
        assert transition(self.state, target) is target
        self.state = target
        self.history.append(target)

    @invariant()
    def terminal_states_end_the_life(self) -> None:
        for index, state in enumerate(self.history):
            if state in TERMINAL:
                assert index == len(self.history) - 1, self.history

    @invariant()
    def nothing_moves_out_of_a_terminal_state(self) -> None:
        if self.state in TERMINAL:
            for target in CodeState:
                assert not can_transition(self.state, target)

    @invariant()
    def commissioned_only_after_encoded(self) -> None:
        for index, state in enumerate(self.history):
            if state is S.COMMISSIONED:
                assert S.ENCODED in self.history[:index], self.history
        if S.COMMISSIONED in self.history:
            first = self.history.index(S.COMMISSIONED)
            assert self.history[first - 1] is S.ENCODED, self.history

    @invariant()
    def never_allocated_again_once_encoded(self) -> None:
        if S.ENCODED in self.history:
            encoded_at = self.history.index(S.ENCODED)
            after = self.history[encoded_at:]
            assert S.ALLOCATED not in after, self.history
            assert S.UNALLOCATED not in after, self.history
            assert S.UNASSIGNED not in after, self.history
            assert after.count(S.ENCODED) == 1, self.history

    @invariant()
    def every_step_is_in_the_table(self) -> None:
        for old, new in itertools.pairwise(self.history):
            assert new in TRANSITIONS[old]
            assert old in sources_of(new)


CodeLife.TestCase.settings = settings(max_examples=150, stateful_step_count=25, deadline=None)
TestCodeLife = CodeLife.TestCase


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(ALL_STATES), max_size=40))
def test_random_walk_of_attempted_moves(attempts: list[CodeState]) -> None:
    """Replaying any sequence of requested moves keeps the code in a reachable, consistent state."""
    state = S.UNASSIGNED
    encoded = False
    for target in attempts:
        try:
            state = transition(state, target)
        except IllegalTransitionError:
            assert target not in TRANSITIONS[state]
            continue
        if state is S.ENCODED:
            assert not encoded, "a code is encoded only once"
            encoded = True
        if state is S.COMMISSIONED:
            assert encoded
        if state in (S.ALLOCATED, S.UNALLOCATED, S.UNASSIGNED):
            assert not encoded
    if state in TERMINAL:
        assert all(not can_transition(state, target) for target in CodeState)
