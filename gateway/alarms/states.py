"""The ISA-18.2 alarm state model as one transition table. Pure: no clock, no I/O.

An alarm has a state (what the operator sees) and a condition (whether the process condition
behind it is active right now). Activate and Clear report the condition and are legal in every
state; while an alarm is Shelved, Suppressed or Out of service they only update the condition,
and when it comes back it comes back as the condition says: Active, unacknowledged if the
condition is active (it is annunciated again), else Normal.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Final

from gateway.alarms.errors import IllegalAlarmEventError


class AlarmState(StrEnum):
    NORMAL = "normal"
    UNACK_ACTIVE = "unack_active"
    ACK_ACTIVE = "ack_active"
    RTN_UNACK = "rtn_unack"
    SHELVED = "shelved"
    SUPPRESSED = "suppressed"
    OUT_OF_SERVICE = "out_of_service"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS: Final = {
    AlarmState.NORMAL: "normal",
    AlarmState.UNACK_ACTIVE: "active, unacknowledged",
    AlarmState.ACK_ACTIVE: "active, acknowledged",
    AlarmState.RTN_UNACK: "returned to normal, unacknowledged",
    AlarmState.SHELVED: "shelved",
    AlarmState.SUPPRESSED: "suppressed by design",
    AlarmState.OUT_OF_SERVICE: "out of service",
}


class AlarmEvent(StrEnum):
    ACTIVATE = "activate"
    CLEAR = "clear"
    ACKNOWLEDGE = "acknowledge"
    SHELVE = "shelve"
    UNSHELVE = "unshelve"
    SHELF_EXPIRED = "shelf_expired"
    SUPPRESS = "suppress"
    UNSUPPRESS = "unsuppress"
    REMOVE_FROM_SERVICE = "remove_from_service"
    RETURN_TO_SERVICE = "return_to_service"


class Reevaluate(Enum):
    """A transition target that depends on the condition: Unack-active if active, else Normal."""

    BY_CONDITION = "by condition"


S = AlarmState
E = AlarmEvent
BY_CONDITION: Final = Reevaluate.BY_CONDITION

ANNUNCIATED: Final = frozenset({S.NORMAL, S.UNACK_ACTIVE, S.ACK_ACTIVE, S.RTN_UNACK})
"""The states of an alarm in service and not hidden: the alarm is shown when it is not Normal."""
HIDDEN: Final = frozenset({S.SHELVED, S.SUPPRESSED, S.OUT_OF_SERVICE})

TRANSITIONS: Final[dict[tuple[AlarmState, AlarmEvent], AlarmState | Reevaluate]] = {
    (S.NORMAL, E.ACTIVATE): S.UNACK_ACTIVE,
    (S.NORMAL, E.CLEAR): S.NORMAL,
    (S.UNACK_ACTIVE, E.ACTIVATE): S.UNACK_ACTIVE,
    (S.UNACK_ACTIVE, E.CLEAR): S.RTN_UNACK,
    (S.UNACK_ACTIVE, E.ACKNOWLEDGE): S.ACK_ACTIVE,
    (S.ACK_ACTIVE, E.ACTIVATE): S.ACK_ACTIVE,
    (S.ACK_ACTIVE, E.CLEAR): S.NORMAL,
    (S.RTN_UNACK, E.ACTIVATE): S.UNACK_ACTIVE,
    (S.RTN_UNACK, E.CLEAR): S.RTN_UNACK,
    (S.RTN_UNACK, E.ACKNOWLEDGE): S.NORMAL,
    **{(state, E.SHELVE): S.SHELVED for state in ANNUNCIATED},
    **{(state, E.SUPPRESS): S.SUPPRESSED for state in ANNUNCIATED},
    **{(state, E.REMOVE_FROM_SERVICE): S.OUT_OF_SERVICE for state in ANNUNCIATED | HIDDEN},
    **{(state, E.ACTIVATE): state for state in HIDDEN},
    **{(state, E.CLEAR): state for state in HIDDEN},
    (S.SHELVED, E.UNSHELVE): BY_CONDITION,
    (S.SHELVED, E.SHELF_EXPIRED): BY_CONDITION,
    (S.SUPPRESSED, E.UNSUPPRESS): BY_CONDITION,
    (S.OUT_OF_SERVICE, E.RETURN_TO_SERVICE): BY_CONDITION,
}


@dataclass(frozen=True)
class AlarmStatus:
    """An alarm's state and whether its condition is active."""

    state: AlarmState = AlarmState.NORMAL
    condition_active: bool = False


def allowed_events(state: AlarmState) -> tuple[AlarmEvent, ...]:
    return tuple(event for event in AlarmEvent if (state, event) in TRANSITIONS)


def apply(status: AlarmStatus, event: AlarmEvent, *, alarm: str | None = None) -> AlarmStatus:
    """The status after `event`, or `IllegalAlarmEventError` naming the allowed events."""
    target = TRANSITIONS.get((status.state, event))
    if target is None:
        allowed = ", ".join(allowed_events(status.state))
        raise IllegalAlarmEventError(
            f"cannot {event.value.replace('_', ' ')} an alarm that is {status.state.label}",
            alarm=alarm,
            hint=f"an alarm that is {status.state.label} allows: {allowed}",
        )
    active = {E.ACTIVATE: True, E.CLEAR: False}.get(event, status.condition_active)
    if target is BY_CONDITION:
        return AlarmStatus(S.UNACK_ACTIVE if active else S.NORMAL, active)
    return AlarmStatus(target, active)
