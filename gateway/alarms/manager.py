"""The gateway's alarms: one ISA-18.2 state per (alarm id, source), and a transition per change.

Every change of state or condition is handed to the subscribers as an `AlarmTransition` (the
runtime journals them). Activating an alarm that is already active changes nothing but its
detail and its recurrence count, so a device that reports the same fault every cycle raises
one alarm. Not thread-safe: use it from the event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from gateway.alarms.definitions import AlarmDefinition
from gateway.alarms.errors import AlarmError, UnknownAlarmError
from gateway.alarms.states import (
    ANNUNCIATED,
    AlarmEvent,
    AlarmState,
    AlarmStatus,
    apply,
)

DEFAULT_MAX_SHELVE_S = 8 * 3600.0
NORMAL_STATUS = AlarmStatus()


@dataclass(frozen=True)
class Alarm:
    """One alarm at one source, as the HMI shows it."""

    definition: AlarmDefinition
    source: str
    status: AlarmStatus = NORMAL_STATUS
    detail: str = ""
    activated_at: datetime | None = None
    """When the condition last became active."""
    changed_at: datetime | None = None
    """When the state or condition last changed."""
    activations: int = 0
    """How often the condition became active."""
    recurrences: int = 0
    """How often it was reported active again while already active."""
    acknowledged_by: str | None = None
    ack_comment: str = ""
    shelved_by: str | None = None
    shelved_until: datetime | None = None
    shelve_reason: str = ""

    @property
    def id(self) -> str:
        return self.definition.id

    @property
    def state(self) -> AlarmState:
        return self.status.state

    @property
    def condition_active(self) -> bool:
        return self.status.condition_active


@dataclass(frozen=True)
class AlarmTransition:
    alarm_id: str
    source: str
    old: AlarmState
    new: AlarmState
    at: datetime
    user: str | None
    detail: str
    event: AlarmEvent
    condition_active: bool


AlarmListener = Callable[[AlarmTransition], object]


class AlarmManager:
    def __init__(
        self,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        definitions: Iterable[AlarmDefinition] = (),
        max_shelve_s: float = DEFAULT_MAX_SHELVE_S,
    ) -> None:
        self._clock = clock
        self._max_shelve_s = max_shelve_s
        self._definitions: dict[str, AlarmDefinition] = {}
        self._alarms: dict[tuple[str, str], Alarm] = {}
        self._listeners: list[AlarmListener] = []
        for definition in definitions:
            self.define(definition)

    # --- definitions and listeners ---------------------------------------------------------------

    def define(self, definition: AlarmDefinition) -> None:
        if definition.id in self._definitions:
            raise AlarmError(
                "alarm is defined twice",
                alarm=definition.id,
                hint="every alarm id is defined once; give the second alarm another id",
            )
        self._definitions[definition.id] = definition

    def definition(self, alarm_id: str) -> AlarmDefinition:
        try:
            return self._definitions[alarm_id]
        except KeyError:
            known = ", ".join(sorted(self._definitions)) or "none"
            raise UnknownAlarmError(
                "no such alarm is defined",
                alarm=alarm_id,
                hint=f"define it first (AlarmManager.define); defined alarms: {known}",
            ) from None

    def subscribe(self, listener: AlarmListener) -> Callable[[], None]:
        """Call `listener` with every transition from now on; returns the unsubscribe function.

        A listener that raises does not stop the others; the first error is raised afterwards
        (the change itself stands).
        """
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    # --- the process reports conditions ----------------------------------------------------------

    def activate(self, alarm_id: str, source: str, detail: str = "") -> Alarm:
        alarm = self.get(alarm_id, source)
        if alarm.condition_active:
            updated = replace(
                alarm, detail=detail or alarm.detail, recurrences=alarm.recurrences + 1
            )
            self._alarms[(alarm_id, source)] = updated
            return updated
        now = self._clock()
        return self._move(
            alarm,
            AlarmEvent.ACTIVATE,
            detail=detail,
            changed=replace(
                alarm,
                activated_at=now,
                activations=alarm.activations + 1,
                acknowledged_by=None,
                ack_comment="",
            ),
            now=now,
        )

    def clear(self, alarm_id: str, source: str, detail: str = "") -> Alarm:
        alarm = self.get(alarm_id, source)
        if not alarm.condition_active:
            return alarm
        return self._move(alarm, AlarmEvent.CLEAR, detail=detail)

    # --- the operator handles alarms -------------------------------------------------------------

    def acknowledge(self, alarm_id: str, source: str, user: str, comment: str = "") -> Alarm:
        _require_text(user, "user", alarm_id, "acknowledging an alarm requires the operator's name")
        alarm = self.get(alarm_id, source)
        return self._move(
            alarm,
            AlarmEvent.ACKNOWLEDGE,
            user=user,
            detail=comment,
            changed=replace(alarm, acknowledged_by=user, ack_comment=comment),
        )

    def shelve(
        self, alarm_id: str, source: str, user: str, duration_s: float, reason: str
    ) -> Alarm:
        """Hide the alarm for `duration_s` (at most `max_shelve_s`); `tick` brings it back."""
        _require_text(user, "user", alarm_id, "shelving an alarm requires the operator's name")
        _require_text(reason, "reason", alarm_id, "say why the alarm is shelved")
        definition = self.definition(alarm_id)
        if not definition.shelvable:
            raise AlarmError(
                "this alarm cannot be shelved",
                alarm=alarm_id,
                hint=f"{definition.priority.name.lower()} alarms that stop the line stay visible;"
                " remove the cause instead",
            )
        if not 0 < duration_s <= self._max_shelve_s:
            raise AlarmError(
                f"shelving duration {duration_s:g} s is out of range",
                alarm=alarm_id,
                hint=f"shelve for more than 0 and at most {self._max_shelve_s:g} s",
            )
        now = self._clock()
        alarm = self.get(alarm_id, source)
        return self._move(
            alarm,
            AlarmEvent.SHELVE,
            user=user,
            detail=reason,
            changed=replace(
                alarm,
                shelved_by=user,
                shelved_until=now + timedelta(seconds=duration_s),
                shelve_reason=reason,
            ),
            now=now,
        )

    def unshelve(self, alarm_id: str, source: str, user: str) -> Alarm:
        _require_text(user, "user", alarm_id, "unshelving an alarm requires the operator's name")
        alarm = self.get(alarm_id, source)
        return self._move(alarm, AlarmEvent.UNSHELVE, user=user, changed=_unshelved(alarm))

    def suppress(self, alarm_id: str, source: str, detail: str = "") -> Alarm:
        """Suppress by design (the line state makes the alarm meaningless, e.g. line stopped)."""
        return self._move(self.get(alarm_id, source), AlarmEvent.SUPPRESS, detail=detail)

    def unsuppress(self, alarm_id: str, source: str) -> Alarm:
        return self._move(self.get(alarm_id, source), AlarmEvent.UNSUPPRESS)

    def remove_from_service(self, alarm_id: str, source: str, user: str, reason: str) -> Alarm:
        _require_text(user, "user", alarm_id, "removing an alarm from service requires a name")
        _require_text(reason, "reason", alarm_id, "say why the alarm is out of service")
        alarm = self.get(alarm_id, source)
        return self._move(
            alarm,
            AlarmEvent.REMOVE_FROM_SERVICE,
            user=user,
            detail=reason,
            changed=_unshelved(alarm),
        )

    def return_to_service(self, alarm_id: str, source: str, user: str) -> Alarm:
        _require_text(user, "user", alarm_id, "returning an alarm to service requires a name")
        return self._move(self.get(alarm_id, source), AlarmEvent.RETURN_TO_SERVICE, user=user)

    def tick(self) -> list[Alarm]:
        """Bring back every alarm whose shelving has expired; returns them."""
        now = self._clock()
        expired = [
            alarm
            for alarm in self._alarms.values()
            if alarm.state is AlarmState.SHELVED
            and alarm.shelved_until is not None
            and alarm.shelved_until <= now
        ]
        return [
            self._move(alarm, AlarmEvent.SHELF_EXPIRED, changed=_unshelved(alarm), now=now)
            for alarm in expired
        ]

    # --- what the HMI shows ----------------------------------------------------------------------

    def get(self, alarm_id: str, source: str) -> Alarm:
        """The alarm at `source`; Normal if it never changed there."""
        alarm = self._alarms.get((alarm_id, source))
        if alarm is None:
            return Alarm(self.definition(alarm_id), source)
        return alarm

    def active(self) -> list[Alarm]:
        """The alarm banner: in service, not hidden, not Normal — most urgent, then newest first."""
        return _banner_order(
            alarm
            for alarm in self._alarms.values()
            if alarm.state in ANNUNCIATED and alarm.state is not AlarmState.NORMAL
        )

    def standing(self) -> list[Alarm]:
        """Every alarm not Normal, shelved, suppressed and out of service included, same order."""
        return _banner_order(
            alarm for alarm in self._alarms.values() if alarm.state is not AlarmState.NORMAL
        )

    # --- internals -------------------------------------------------------------------------------

    def _move(
        self,
        alarm: Alarm,
        event: AlarmEvent,
        *,
        user: str | None = None,
        detail: str = "",
        changed: Alarm | None = None,
        now: datetime | None = None,
    ) -> Alarm:
        """Apply `event` to `alarm`; only if it is legal, store `changed` (the alarm with the
        event's own field changes) with the new status, and tell the listeners."""
        status = apply(alarm.status, event, alarm=f"{alarm.id} at {alarm.source}")
        at = now or self._clock()
        updated = replace(
            changed or alarm, status=status, detail=detail or alarm.detail, changed_at=at
        )
        self._alarms[(alarm.id, alarm.source)] = updated
        self._notify(
            AlarmTransition(
                alarm.id,
                alarm.source,
                alarm.state,
                status.state,
                at,
                user,
                detail,
                event,
                status.condition_active,
            )
        )
        return updated

    def _notify(self, transition: AlarmTransition) -> None:
        first: Exception | None = None
        for listener in list(self._listeners):
            try:
                listener(transition)
            except Exception as error:
                first = first or error
        if first is not None:
            raise first


def _unshelved(alarm: Alarm) -> Alarm:
    return replace(alarm, shelved_by=None, shelved_until=None, shelve_reason="")


def _banner_order(alarms: Iterable[Alarm]) -> list[Alarm]:
    def key(alarm: Alarm) -> tuple[int, float]:
        when = alarm.activated_at or alarm.changed_at
        return (-alarm.definition.priority, -(when.timestamp() if when else 0.0))

    return sorted(alarms, key=key)


def _require_text(value: str, name: str, alarm_id: str, hint: str) -> None:
    if not value or not value.strip():
        raise AlarmError(f"{name} is empty", alarm=alarm_id, hint=hint)
