"""Alarms after ISA-18.2: the state model, the manager the runtime raises them through, and the
runtime's alarm list."""

from gateway.alarms.catalog import RUNTIME_ALARMS
from gateway.alarms.definitions import AlarmDefinition, Priority
from gateway.alarms.errors import AlarmError, IllegalAlarmEventError, UnknownAlarmError
from gateway.alarms.manager import Alarm, AlarmListener, AlarmManager, AlarmTransition
from gateway.alarms.states import AlarmEvent, AlarmState, AlarmStatus

__all__ = [
    "RUNTIME_ALARMS",
    "Alarm",
    "AlarmDefinition",
    "AlarmError",
    "AlarmEvent",
    "AlarmListener",
    "AlarmManager",
    "AlarmState",
    "AlarmStatus",
    "AlarmTransition",
    "IllegalAlarmEventError",
    "Priority",
    "UnknownAlarmError",
]
