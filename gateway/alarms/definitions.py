"""What an alarm is: its id, priority, operator message and category."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Priority(IntEnum):
    """ISA-18.2 priorities; a higher number is more urgent (sorts first on the banner)."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    URGENT = 4


@dataclass(frozen=True)
class AlarmDefinition:
    """One alarm of the rationalised alarm list.

    `message` tells the operator what happened and what to do; the alarm's `detail` (given when
    it is activated) says where. `shelvable` is False for alarms that stop the line: ISA-18.2
    does not let an operator hide those.
    """

    id: str
    priority: Priority
    message: str
    category: str
    message_zh: str = ""
    shelvable: bool = True
