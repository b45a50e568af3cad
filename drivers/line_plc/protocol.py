"""The numbers of the line PLC interface (docs/protocols/line-plc.md): PackML states, the
answer to a verdict and a unit's gate outcome. Sans-IO; the gateway's runtime reads them from
the PLC over OPC UA and the PLC simulator answers with them."""

from __future__ import annotations

from enum import IntEnum


class PackMLState(IntEnum):
    """PackML state numbers as ISA-TR88.00.02 (and OPC 30050 PackML) number them."""

    CLEARING = 1
    STOPPED = 2
    STARTING = 3
    IDLE = 4
    SUSPENDED = 5
    EXECUTE = 6
    STOPPING = 7
    ABORTING = 8
    ABORTED = 9
    HOLDING = 10
    HELD = 11
    UNHOLDING = 12
    SUSPENDING = 13
    UNSUSPENDING = 14
    RESETTING = 15
    COMPLETING = 16
    COMPLETE = 17


class VerdictAck(IntEnum):
    """The PLC's answer to a verdict (the value `SetVerdict` returns)."""

    APPLIED = 0
    """Taken: the gate will act on it (also when the same verdict is set again)."""
    LATE = 1
    """The unit already passed the gate, or its reference is older than every unit on the
    conveyor; nothing changes (a unit without ACCEPT is rejected: fail-safe)."""
    UNKNOWN = 2
    """No unit with that reference was ever triggered."""
    CONFLICT = 3
    """A different verdict was set for the unit before; the first one stands."""


class OutcomeCode(IntEnum):
    """What the gate did with a unit (the value the optional `UnitOutcome` method returns)."""

    PENDING = 0
    """Not at the gate yet, or unknown."""
    PASSED = 1
    REJECTED = 2
    REJECT_MISSED = 3
    """The gate fired but the unit went through."""
