"""The closed vocabularies of the executed record: steps, sources, exception kinds, severities.

Pure values, shared by the tables' CHECK constraints and the API, so the two cannot disagree.
"""

from __future__ import annotations

from enum import StrEnum


class Step(StrEnum):
    """The steps of a packaging batch, in the only order they may be completed."""

    HEADER = "header"
    CLEARANCE = "clearance"
    MATERIALS_ISSUED = "materials_issued"
    SETUP = "setup"
    CHALLENGE = "challenge"
    PRODUCTION = "production"
    COUNTS = "counts"
    RECONCILIATION = "reconciliation"
    MATERIALS_RECONCILED = "materials_reconciled"
    REVIEW = "review"
    RELEASE = "release"


class Source(StrEnum):
    LINE = "line"
    """Computed by the gateway (counts, reconciliation)."""
    TAG = "tag"
    """Read from a PLC tag or a device."""
    MANUAL = "manual"
    """Entered by a person."""


class ExceptionKind(StrEnum):
    OUT_OF_LIMIT = "out_of_limit"
    DEVIATION = "deviation"
    MANUAL_OVERRIDE = "manual_override"
    MISSED_CHECK = "missed_check"
    RECONCILIATION_BREACH = "reconciliation_breach"
    YIELD_BREACH = "yield_breach"
    LATE_VERDICTS = "late_verdicts"
    DATA_CHANGED = "data_changed"


class Severity(StrEnum):
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


class DeviationStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
