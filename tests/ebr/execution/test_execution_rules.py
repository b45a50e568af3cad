"""The executed record's actions are always signed by one person: a site's rules cannot
lower (or otherwise change) them, and the record refuses signatures built without them."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from ebr.audit.trail import AuditTrail
from ebr.execution import (
    SIGNATURE_DEFAULTS,
    ExecutionError,
    ExecutionRecord,
    execution_requirements,
)
from ebr.signatures import ESignatures, Requirement
from ebr.users import Users


def test_the_site_keeps_its_other_rules_and_cannot_change_these() -> None:
    rules = execution_requirements({"line_clearance": "dual"})
    assert rules["line_clearance"] is Requirement.DUAL
    assert {action: rules[action] for action in SIGNATURE_DEFAULTS} == dict.fromkeys(
        SIGNATURE_DEFAULTS, Requirement.SINGLE
    )
    for action in SIGNATURE_DEFAULTS:
        for lowered in ("none", "dual"):
            with pytest.raises(ExecutionError, match=f"configures the signature of '{action}'"):
                execution_requirements({action: lowered})


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        ({"line_clearance": Requirement.SINGLE}, "no rule for 'batch_release'"),
        ({**SIGNATURE_DEFAULTS, "batch_release": Requirement.NONE}, "rule of 'batch_release'"),
    ],
)
def test_the_record_refuses_signatures_without_its_rules(
    rules: dict[str, Requirement], problem: str
) -> None:
    engine = create_engine("sqlite://")
    trail = AuditTrail(engine)
    users = Users(trail)
    with pytest.raises(ExecutionError, match=problem) as refused:
        ExecutionRecord(engine, trail, ESignatures(users, trail, rules), users)
    assert refused.value.hint == "build the signatures' rules with execution_requirements(...)"
    engine.dispose()
