"""Exceptions are raised once per kind and reference and acknowledged by QA with a comment;
overrides and missed checks raise theirs; the database keeps every row as the rules allow."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from ebr.audit.actor import GATEWAY
from ebr.execution import ExceptionKind, ExecutionError, Limits, Severity, Step
from ebr.users import PermissionDeniedError
from tests.ebr.audit.audit_users import OWN
from tests.ebr.execution.execution_fixtures import ExecutionSite


@pytest.fixture
def site(engine: Engine) -> ExecutionSite:
    site = ExecutionSite(engine)
    site.complete_through(Step.PRODUCTION)
    return site


def test_exceptions_are_raised_once_and_acknowledged_only_by_qa_with_a_comment(
    site: ExecutionSite,
) -> None:
    def raise_breach() -> int:
        return site.record.raise_exception(
            site.batch, "reconciliation_breach", "major", "12 codes unaccounted for", "counts"
        )

    first = raise_breach()
    assert raise_breach() == first
    other = site.record.raise_exception(
        site.batch, ExceptionKind.YIELD_BREACH, Severity.MINOR, "yield 97.1 %", "counts"
    )
    assert [e.id for e in site.record.exceptions(site.batch)] == [first, other]

    with pytest.raises(PermissionDeniedError, match="only QA acknowledges"):
        site.record.acknowledge(first, site.session("sam"), "looked at it")
    assert site.audit_events("ebr.acknowledge_refused") == [
        {"why": "a supervisor cannot acknowledge exceptions"}
    ]
    with pytest.raises(ExecutionError, match="needs a comment"):
        site.record.acknowledge(first, site.session("quinn"), "  ")
    done = site.record.acknowledge(first, site.session("quinn"), "rework counted, see QMS-17")
    assert (done.acknowledged, done.acknowledged_by, done.comment) == (
        True,
        "quinn",
        "rework counted, see QMS-17",
    )
    with pytest.raises(ExecutionError, match="already acknowledged by quinn"):
        site.record.acknowledge(first, site.session("rita"), "again")
    assert [e.id for e in site.record.exceptions(site.batch)] == [other]
    assert len(site.record.exceptions(site.batch, include_acknowledged=True)) == 2
    with pytest.raises(ExecutionError, match="no exception kind 'odd'") as error:
        site.record.raise_exception(site.batch, "odd", "minor", "x", "y")
    assert error.value.hint is not None
    assert "late_verdicts" in error.value.hint


def test_a_manual_override_is_signed_by_a_supervisor_and_raised_for_review(
    site: ExecutionSite,
) -> None:
    what, why = "accepted held unit 1207 at the reject gate", "verified by hand: code reads"
    with pytest.raises(
        PermissionDeniedError, match="a manual override is signed by: qa, supervisor"
    ):
        site.record.manual_override(
            site.batch, what, why, site.session("olga"), OWN, username="olga"
        )
    assert site.entry_count() == 0

    entry_id = site.record.manual_override(
        site.batch, what, why, site.session("sam"), OWN, username="sam"
    )

    entry = site.record.entry(entry_id)
    assert (entry.section, entry.name, entry.value, entry.reason) == (
        "events",
        "manual_override",
        {"what": what},
        why,
    )
    (signature,) = site.signatures.signatures("ebr_entry", str(entry_id))
    assert (signature.username, signature.action) == ("sam", "manual_override")
    assert site.signatures.verify("ebr_entry", str(entry_id)).ok
    (exception,) = site.record.exceptions(site.batch)
    assert (exception.kind, exception.ref) == (ExceptionKind.MANUAL_OVERRIDE, str(entry_id))
    assert exception.subject == f"manual override by sam: {what}"


def test_checks_on_a_schedule_are_marked_done_and_missed_ones_raised_once(
    site: ExecutionSite,
) -> None:
    start = site.clock.now
    hourly = [
        site.record.schedule_check(site.batch, "seal", start + timedelta(hours=h))
        for h in (0, 1, 2)
    ]
    assert site.record.schedule_check(site.batch, "seal", start) == hourly[0]

    entry_id = site.record.record_check(site.batch, "seal", "pass", by=site.session("olga"))
    weight = site.record.record_check(
        site.batch, "weight", 10, Limits(9, 11), by=site.session("olga"), unit="g"
    )

    assert [c.entry_id for c in site.record.checks(site.batch)] == [entry_id, None, None]
    assert site.record.entry(weight).in_limits is True
    later = start + timedelta(hours=1, minutes=6)
    (missed,) = site.record.overdue_checks(site.batch, later)
    assert missed.id == hourly[1]
    assert site.record.overdue_checks(site.batch, later) == [missed]
    (exception,) = site.record.exceptions(site.batch)
    assert exception.kind is ExceptionKind.MISSED_CHECK
    assert exception.ref == "seal@2026-11-22T09:00:00.000000+00:00"
    assert site.record.overdue_checks(site.batch, start + timedelta(hours=1, minutes=4)) == []


def test_the_database_keeps_the_record_as_the_rules_allow(site: ExecutionSite) -> None:
    """Steps and entries are append-only; exceptions, deviations and checks are never deleted,
    their identity never changes, and once settled they stay as they are."""
    entry = site.record.record(
        site.batch, "parameters", "speed", 130, high=120, source="tag", by=GATEWAY
    )
    exception = site.record.exceptions(site.batch)[0].id
    (deviation,) = site.record.deviations(site.batch)
    site.record.schedule_check(site.batch, "seal", site.clock.now)
    refused = [
        "UPDATE ebr_steps SET done_by = 'mallory'",
        "DELETE FROM ebr_steps",
        f"UPDATE ebr_entries SET value = '1' WHERE id = {entry}",
        "DELETE FROM ebr_entries",
        "DELETE FROM ebr_exceptions",
        "DELETE FROM ebr_deviations",
        "DELETE FROM ebr_checks",
        f"UPDATE ebr_exceptions SET severity = 'minor' WHERE id = {exception}",
        f"UPDATE ebr_deviations SET title = 'nothing' WHERE id = {deviation.id}",
        "UPDATE ebr_checks SET name = 'other'",
    ]
    for statement in refused:
        with (
            pytest.raises(DBAPIError, match=r"tracegate: (UPDATE|DELETE) on ebr_"),
            site.engine.begin() as conn,
        ):
            conn.execute(text(statement))
    site.record.acknowledge(exception, site.session("quinn"), "seen")
    site.record.close_deviation(deviation.id, site.session("quinn"), OWN, "ok", username="quinn")
    for statement in (
        f"UPDATE ebr_exceptions SET comment = 'changed' WHERE id = {exception}",
        f"UPDATE ebr_deviations SET close_reason = 'changed' WHERE id = {deviation.id}",
    ):
        with pytest.raises(DBAPIError, match="settled"), site.engine.begin() as conn:
            conn.execute(text(statement))
