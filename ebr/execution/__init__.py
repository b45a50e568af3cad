"""The executed batch record (`docs/ebr.md`): steps in their enforced order, entries by
section, exceptions for review by exception, deviations, scheduled checks, and QA's release.

The names are loaded on first use: `ebr.models` imports this package's tables, and the API
below imports the audit trail, the signatures and the journal, which import `ebr.models` in
turn; loading them eagerly here would make that a cycle.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ebr.execution.checks import ScheduledCheck
    from ebr.execution.deviations import Deviation
    from ebr.execution.entries import Entry
    from ebr.execution.errors import (
        ExecutionError,
        ReleaseBlockedError,
        SequenceError,
        VerificationRequiredError,
    )
    from ebr.execution.exceptions import ExceptionItem
    from ebr.execution.kinds import DeviationStatus, ExceptionKind, Severity, Source, Step
    from ebr.execution.loaders import load_deviation, load_entry
    from ebr.execution.materials import MaterialAccount
    from ebr.execution.record import ExecutionRecord
    from ebr.execution.signing import (
        AUDIT_REVIEW_ACTION,
        DEVIATION_CLOSE_ACTION,
        MANUAL_OVERRIDE_ACTION,
        REJECT_ACTION,
        RELEASE_ACTION,
        SIGNATURE_DEFAULTS,
        VALUE_VERIFICATION_ACTION,
        SignatureRequest,
        execution_requirements,
    )
    from ebr.execution.steps import StepDone
    from ebr.execution.values import Limits

_HOMES = {
    "AUDIT_REVIEW_ACTION": "signing",
    "DEVIATION_CLOSE_ACTION": "signing",
    "Deviation": "deviations",
    "DeviationStatus": "kinds",
    "Entry": "entries",
    "ExceptionItem": "exceptions",
    "ExceptionKind": "kinds",
    "ExecutionError": "errors",
    "ExecutionRecord": "record",
    "Limits": "values",
    "MANUAL_OVERRIDE_ACTION": "signing",
    "MaterialAccount": "materials",
    "REJECT_ACTION": "signing",
    "RELEASE_ACTION": "signing",
    "ReleaseBlockedError": "errors",
    "SIGNATURE_DEFAULTS": "signing",
    "ScheduledCheck": "checks",
    "SequenceError": "errors",
    "Severity": "kinds",
    "SignatureRequest": "signing",
    "Source": "kinds",
    "Step": "kinds",
    "StepDone": "steps",
    "VALUE_VERIFICATION_ACTION": "signing",
    "VerificationRequiredError": "errors",
    "execution_requirements": "signing",
    "load_deviation": "loaders",
    "load_entry": "loaders",
}

__all__ = [
    "AUDIT_REVIEW_ACTION",
    "DEVIATION_CLOSE_ACTION",
    "MANUAL_OVERRIDE_ACTION",
    "REJECT_ACTION",
    "RELEASE_ACTION",
    "SIGNATURE_DEFAULTS",
    "VALUE_VERIFICATION_ACTION",
    "Deviation",
    "DeviationStatus",
    "Entry",
    "ExceptionItem",
    "ExceptionKind",
    "ExecutionError",
    "ExecutionRecord",
    "Limits",
    "MaterialAccount",
    "ReleaseBlockedError",
    "ScheduledCheck",
    "SequenceError",
    "Severity",
    "SignatureRequest",
    "Source",
    "Step",
    "StepDone",
    "VerificationRequiredError",
    "execution_requirements",
    "load_deviation",
    "load_entry",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'ebr.execution' has no attribute {name!r}")
    return getattr(importlib.import_module(f"ebr.execution.{home}"), name)
