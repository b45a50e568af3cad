"""The PackML (ISA-TR88.00.02) state machine: states, commands and the one transition table.

Acting states (Starting, Holding, …) end by themselves when their work is done; that is the
`STATE_COMPLETE` pseudo-command in the same table. Sans-IO: no clock, no server.
"""

from __future__ import annotations

from enum import StrEnum

from drivers.line_plc.protocol import PackMLState

State = PackMLState
"""The PackML state numbers of the PLC interface (`drivers.line_plc.protocol`)."""


class Command(StrEnum):
    RESET = "Reset"
    START = "Start"
    STOP = "Stop"
    HOLD = "Hold"
    UNHOLD = "Unhold"
    SUSPEND = "Suspend"
    UNSUSPEND = "Unsuspend"
    ABORT = "Abort"
    CLEAR = "Clear"
    COMPLETE = "Complete"
    """The machine's own signal that production of the order is finished (Execute → Completing)."""
    STATE_COMPLETE = "StateComplete"
    """An acting state finished its work."""


_STOPPABLE = frozenset(State) - {
    State.STOPPED,
    State.STOPPING,
    State.CLEARING,
    State.ABORTING,
    State.ABORTED,
}
_ABORTABLE = frozenset(State) - {State.ABORTING, State.ABORTED}

TRANSITIONS: dict[tuple[State, Command], State] = {
    **{(state, Command.STOP): State.STOPPING for state in _STOPPABLE},
    **{(state, Command.ABORT): State.ABORTING for state in _ABORTABLE},
    (State.STOPPED, Command.RESET): State.RESETTING,
    (State.RESETTING, Command.STATE_COMPLETE): State.IDLE,
    (State.IDLE, Command.START): State.STARTING,
    (State.STARTING, Command.STATE_COMPLETE): State.EXECUTE,
    (State.EXECUTE, Command.HOLD): State.HOLDING,
    (State.HOLDING, Command.STATE_COMPLETE): State.HELD,
    (State.HELD, Command.UNHOLD): State.UNHOLDING,
    (State.UNHOLDING, Command.STATE_COMPLETE): State.EXECUTE,
    (State.EXECUTE, Command.SUSPEND): State.SUSPENDING,
    (State.SUSPENDING, Command.STATE_COMPLETE): State.SUSPENDED,
    (State.SUSPENDED, Command.UNSUSPEND): State.UNSUSPENDING,
    (State.UNSUSPENDING, Command.STATE_COMPLETE): State.EXECUTE,
    (State.EXECUTE, Command.COMPLETE): State.COMPLETING,
    (State.COMPLETING, Command.STATE_COMPLETE): State.COMPLETE,
    (State.COMPLETE, Command.RESET): State.RESETTING,
    (State.STOPPING, Command.STATE_COMPLETE): State.STOPPED,
    (State.ABORTING, Command.STATE_COMPLETE): State.ABORTED,
    (State.ABORTED, Command.CLEAR): State.CLEARING,
    (State.CLEARING, Command.STATE_COMPLETE): State.STOPPED,
}

ACTING_STATES = frozenset(
    state for state, command in TRANSITIONS if command is Command.STATE_COMPLETE
)
OPERATOR_COMMANDS = tuple(c for c in Command if c is not Command.STATE_COMPLETE)


class IllegalCommandError(Exception):
    """The command is not allowed in the current state (the caller did wrong)."""

    def __init__(self, state: State, command: Command) -> None:
        allowed = sorted(c.value for (s, c) in TRANSITIONS if s is state)
        super().__init__(
            f"PackML command {command.value} is not allowed in state {state.name.title()}"
            f" (allowed: {', '.join(allowed)})"
        )
        self.state = state
        self.command = command


class PackMLMachine:
    def __init__(self, state: State = State.STOPPED) -> None:
        self.state = state

    def can(self, command: Command) -> bool:
        return (self.state, command) in TRANSITIONS

    def handle(self, command: Command) -> State:
        target = TRANSITIONS.get((self.state, command))
        if target is None:
            raise IllegalCommandError(self.state, command)
        self.state = target
        return target

    @property
    def acting(self) -> bool:
        return self.state in ACTING_STATES
