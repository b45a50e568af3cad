"""The ISA-18.2 state model: the table, and random event sequences keep every state's meaning."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from gateway.alarms.errors import AlarmError, IllegalAlarmEventError
from gateway.alarms.states import (
    BY_CONDITION,
    HIDDEN,
    TRANSITIONS,
    AlarmEvent,
    AlarmState,
    AlarmStatus,
    allowed_events,
    apply,
)

S = AlarmState
E = AlarmEvent
HIDING = {E.SHELVE: S.SHELVED, E.SUPPRESS: S.SUPPRESSED, E.REMOVE_FROM_SERVICE: S.OUT_OF_SERVICE}
BRINGING_BACK = {
    S.SHELVED: (E.UNSHELVE, E.SHELF_EXPIRED),
    S.SUPPRESSED: (E.UNSUPPRESS,),
    S.OUT_OF_SERVICE: (E.RETURN_TO_SERVICE,),
}

#: What each visible state means about the condition (ISA-18.2).
CONDITION_OF = {S.NORMAL: False, S.UNACK_ACTIVE: True, S.ACK_ACTIVE: True, S.RTN_UNACK: False}


def test_labels_say_what_the_state_means() -> None:
    assert S.UNACK_ACTIVE.label == "active, unacknowledged"
    assert S.RTN_UNACK.label == "returned to normal, unacknowledged"


def test_the_alarm_cycle() -> None:
    status = AlarmStatus()
    status = apply(status, E.ACTIVATE)
    assert status == AlarmStatus(S.UNACK_ACTIVE, condition_active=True)
    status = apply(status, E.ACKNOWLEDGE)
    assert status == AlarmStatus(S.ACK_ACTIVE, condition_active=True)
    assert apply(status, E.CLEAR) == AlarmStatus(S.NORMAL, condition_active=False)


def test_clear_before_acknowledge_needs_an_acknowledge() -> None:
    status = apply(apply(AlarmStatus(), E.ACTIVATE), E.CLEAR)
    assert status == AlarmStatus(S.RTN_UNACK, condition_active=False)
    assert apply(status, E.ACTIVATE).state is S.UNACK_ACTIVE
    assert apply(status, E.ACKNOWLEDGE) == AlarmStatus()


def test_activate_and_clear_are_legal_in_every_state() -> None:
    for state in AlarmState:
        assert (state, E.ACTIVATE) in TRANSITIONS
        assert (state, E.CLEAR) in TRANSITIONS


@pytest.mark.parametrize(("event", "hidden"), HIDING.items())
@pytest.mark.parametrize("active", [True, False])
def test_a_hidden_alarm_comes_back_as_its_condition_says(
    event: AlarmEvent, hidden: AlarmState, active: bool
) -> None:
    status = apply(apply(AlarmStatus(), E.ACTIVATE), event)
    assert status.state is hidden
    status = apply(status, E.ACTIVATE if active else E.CLEAR)
    assert status.state is hidden
    for back in BRINGING_BACK[hidden]:
        returned = apply(status, back)
        assert returned.state is (S.UNACK_ACTIVE if active else S.NORMAL)
        assert returned.condition_active is active


def test_returning_targets_depend_on_the_condition() -> None:
    returning = {pair for pair, target in TRANSITIONS.items() if target is BY_CONDITION}
    expected = {(state, event) for state, events in BRINGING_BACK.items() for event in events}
    assert returning == expected


@pytest.mark.parametrize(
    ("state", "event"),
    [pair for pair in itertools.product(AlarmState, AlarmEvent) if pair not in TRANSITIONS],
    ids=str,
)
def test_illegal_events_raise_and_name_the_allowed(state: AlarmState, event: AlarmEvent) -> None:
    status = AlarmStatus(state, CONDITION_OF.get(state, False))
    with pytest.raises(IllegalAlarmEventError) as info:
        apply(status, event, alarm="LOOP_LAG at line-1")
    assert isinstance(info.value, AlarmError)
    assert str(info.value).startswith("LOOP_LAG at line-1: cannot ")
    assert info.value.hint is not None
    for allowed in allowed_events(state):
        assert allowed.value in info.value.hint


class AlarmLife(RuleBasedStateMachine):
    """One alarm under random events, legal or not."""

    def __init__(self) -> None:
        super().__init__()
        self.status = AlarmStatus()
        self.condition = False

    @rule(event=st.sampled_from(tuple(AlarmEvent)))
    def happen(self, event: AlarmEvent) -> None:
        before = self.status
        if (before.state, event) not in TRANSITIONS:
            with pytest.raises(IllegalAlarmEventError):
                apply(before, event)
            return
        after = apply(before, event)
        self.status = after
        if event is E.ACTIVATE:
            self.condition = True
        elif event is E.CLEAR:
            self.condition = False
        if event is E.ACKNOWLEDGE:
            assert after.condition_active is before.condition_active
            assert after.state is not S.UNACK_ACTIVE
            assert before.state in (S.UNACK_ACTIVE, S.RTN_UNACK)
        if event is E.CLEAR and before.state is S.ACK_ACTIVE:
            assert after.state is S.NORMAL
        if event is E.CLEAR and before.state is S.UNACK_ACTIVE:
            assert after.state is S.RTN_UNACK
        if event is E.ACTIVATE and before.state is S.NORMAL:
            assert after.state is S.UNACK_ACTIVE
        if before.state in HIDDEN and event in (E.ACTIVATE, E.CLEAR):
            assert after.state is before.state

    @invariant()
    def the_condition_is_remembered(self) -> None:
        assert self.status.condition_active is self.condition

    @invariant()
    def every_visible_state_means_what_isa_18_2_says(self) -> None:
        if self.status.state in CONDITION_OF:
            assert CONDITION_OF[self.status.state] is self.status.condition_active


AlarmLife.TestCase.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)
TestAlarmLife = AlarmLife.TestCase
