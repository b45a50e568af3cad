"""Errors of the alarm system: what is wrong, for which alarm, and how to fix it (`hint`)."""

from __future__ import annotations


class AlarmError(Exception):
    """Base class of every alarm error; the caller (runtime or HMI) did something wrong."""

    def __init__(self, message: str, *, alarm: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.alarm = alarm
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.alarm}: {self.message}" if self.alarm else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class UnknownAlarmError(AlarmError):
    """An alarm id that no definition declares."""


class IllegalAlarmEventError(AlarmError):
    """An event the ISA-18.2 state model does not allow in the alarm's current state."""
