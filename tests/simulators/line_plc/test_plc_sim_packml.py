"""The PackML transition table: the states the brief names, reachability, illegal commands."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulators.line_plc.packml import (
    ACTING_STATES,
    OPERATOR_COMMANDS,
    TRANSITIONS,
    Command,
    IllegalCommandError,
    PackMLMachine,
    State,
)

NAMED_IN_ISSUE = {
    "Stopped", "Idle", "Starting", "Execute", "Holding", "Held", "Unholding", "Suspended",
    "Stopping", "Aborting", "Aborted", "Clearing", "Resetting", "Complete",
}  # fmt: skip


def test_every_state_the_issue_names_exists() -> None:
    assert {s.name.title() for s in State} >= NAMED_IN_ISSUE


def test_every_state_is_reachable_from_stopped() -> None:
    seen, frontier = {State.STOPPED}, [State.STOPPED]
    while frontier:
        state = frontier.pop()
        for (source, _), target in TRANSITIONS.items():
            if source is state and target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(State)


def test_acting_states_complete_by_themselves_and_wait_states_do_not() -> None:
    assert State.STARTING in ACTING_STATES
    assert State.EXECUTE not in ACTING_STATES
    for state in (State.STOPPED, State.IDLE, State.HELD, State.SUSPENDED, State.ABORTED):
        assert (state, Command.STATE_COMPLETE) not in TRANSITIONS


def test_normal_production_cycle() -> None:
    m = PackMLMachine()
    steps = [
        (Command.RESET, State.RESETTING),
        (Command.STATE_COMPLETE, State.IDLE),
        (Command.START, State.STARTING),
        (Command.STATE_COMPLETE, State.EXECUTE),
        (Command.HOLD, State.HOLDING),
        (Command.STATE_COMPLETE, State.HELD),
        (Command.UNHOLD, State.UNHOLDING),
        (Command.STATE_COMPLETE, State.EXECUTE),
        (Command.SUSPEND, State.SUSPENDING),
        (Command.STATE_COMPLETE, State.SUSPENDED),
        (Command.UNSUSPEND, State.UNSUSPENDING),
        (Command.STATE_COMPLETE, State.EXECUTE),
        (Command.COMPLETE, State.COMPLETING),
        (Command.STATE_COMPLETE, State.COMPLETE),
        (Command.RESET, State.RESETTING),
        (Command.STATE_COMPLETE, State.IDLE),
        (Command.ABORT, State.ABORTING),
        (Command.STATE_COMPLETE, State.ABORTED),
        (Command.CLEAR, State.CLEARING),
        (Command.STATE_COMPLETE, State.STOPPED),
    ]
    for command, expected in steps:
        assert m.handle(command) is expected


@pytest.mark.parametrize(
    ("state", "command"),
    [
        (State.STOPPED, Command.START),
        (State.IDLE, Command.HOLD),
        (State.EXECUTE, Command.RESET),
        (State.ABORTED, Command.STOP),
        (State.ABORTED, Command.RESET),
        (State.HELD, Command.START),
        (State.STOPPED, Command.STOP),
    ],
)
def test_illegal_commands_are_refused_and_change_nothing(state: State, command: Command) -> None:
    m = PackMLMachine(state)
    with pytest.raises(IllegalCommandError, match=f"{command.value} is not allowed"):
        m.handle(command)
    assert m.state is state


def test_stop_and_abort_reach_from_everywhere_they_should() -> None:
    for state in State:
        if state not in {State.ABORTING, State.ABORTED}:
            assert PackMLMachine(state).can(Command.ABORT)
        if state not in {
            State.STOPPED, State.STOPPING, State.CLEARING, State.ABORTING, State.ABORTED,
        }:  # fmt: skip
            assert PackMLMachine(state).can(Command.STOP)


@given(st.lists(st.sampled_from(list(Command)), max_size=60))
def test_random_command_sequences_never_leave_the_defined_states(commands: list[Command]) -> None:
    m = PackMLMachine()
    for command in commands:
        before = m.state
        if m.can(command):
            assert m.handle(command) is TRANSITIONS[(before, command)]
        else:
            with pytest.raises(IllegalCommandError):
                m.handle(command)
            assert m.state is before
        assert m.state in State


def test_operator_commands_exclude_the_internal_signal() -> None:
    assert Command.STATE_COMPLETE not in OPERATOR_COMMANDS
