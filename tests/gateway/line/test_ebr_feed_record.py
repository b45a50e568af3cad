"""What the feed writes into a batch's executed record, on SQLite and PostgreSQL: each value of
one origin once (a restarted feed adds nothing twice), a parameter's excursion out of its limits
once (one deviation), checks missed once their grace is over or production ended, PLC counts
that differ from the gateway's, and the reconciliation and yield against their limits."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from config.ebr import HEALTH_TAG
from ebr.audit.actor import GATEWAY
from ebr.execution.kinds import ExceptionKind, Source, Step
from gateway.alarms import RUNTIME_ALARMS, AlarmManager
from gateway.line.ebr_alarms import define_ebr_alarms
from gateway.line.ebr_checks import CheckPlan
from gateway.line.ebr_closing import counts_write, reconciliation_write
from gateway.line.ebr_counts import CountComparison
from gateway.line.ebr_journal import LineNote
from gateway.line.ebr_parameters import ParameterPlan, Sample
from gateway.line.ebr_plan import FeedPlan, YieldPlan
from gateway.line.ebr_production import CheckWatch, ParameterWatch
from gateway.line.ebr_recorder import LineRecorder
from gateway.line.ebr_writes import Write
from tests.ebr.execution.execution_fixtures import ExecutionSite

SPEED = ParameterPlan("line_speed", "plc-1", "speed", "upm", Decimal(300), Decimal(700))
GRACE = timedelta(minutes=5)


@pytest.fixture
def site(engine: Engine) -> ExecutionSite:
    return ExecutionSite(engine)


def _recorder(site: ExecutionSite, batch: int | None = None) -> LineRecorder:
    recorder = LineRecorder(site.record, batch or site.batch, site.users)
    recorder.load()
    return recorder


def _alarms() -> AlarmManager:
    alarms = AlarmManager(definitions=RUNTIME_ALARMS)
    define_ebr_alarms(alarms)
    return alarms


def _run(writes: list[Write]) -> None:
    for write in writes:
        outcome = write.run()
        if write.then is not None:
            write.then(outcome)


def _note(site: ExecutionSite, seq: int, **data: object) -> LineNote:
    return LineNote(seq, site.clock(), str(data.get("topic", "")), dict(data))


def test_a_value_of_one_origin_is_recorded_once_also_after_a_restart(site: ExecutionSite) -> None:
    site.complete_through(Step.HEADER)
    recorder = _recorder(site)
    first = recorder.value("clearance", "checklist item 1", "swept", ref="journal:7")
    assert first is not None
    assert recorder.value("clearance", "checklist item 1", "swept", ref="journal:7") is None
    restarted = _recorder(site)
    assert restarted.value("clearance", "checklist item 1", "swept", ref="journal:7") is None
    assert restarted.value("clearance", "checklist item 1", "swept", ref="journal:9") is not None
    assert [e.evidence["line_ref"] for e in site.record.entries(site.batch, "clearance")] == [
        "journal:7",
        "journal:9",
    ]
    restarted.complete(Step.CLEARANCE)
    restarted.complete(Step.CLEARANCE)
    assert restarted.missing(Step.SETUP) is Step.MATERIALS_ISSUED
    site.record.complete_step(site.batch, Step.MATERIALS_ISSUED, site.session("olga"))
    restarted.refresh()
    assert restarted.missing(Step.SETUP) is None


def test_an_excursion_is_recorded_once_and_again_when_back_within_limits(
    site: ExecutionSite,
) -> None:
    site.complete_through(Step.CHALLENGE)
    alarms = _alarms()
    watch = ParameterWatch(_recorder(site), alarms)
    for value in ("600", "850", "910", "880", "650"):
        _run(watch.take(Sample(SPEED, Decimal(value), site.clock())))
    assert alarms.get("PARAMETER_OUT_OF_LIMIT", "line_speed").activations == 1
    assert not alarms.get("PARAMETER_OUT_OF_LIMIT", "line_speed").condition_active

    recorded = site.record.entries(site.batch, "parameters")
    assert [(e.value, e.in_limits, e.source) for e in recorded] == [
        ("600", True, Source.TAG),
        ("850", False, Source.TAG),
        ("650", True, Source.TAG),
    ]
    assert recorded[2].evidence["excursion"]["samples_out_of_limits"] == 3
    assert recorded[2].evidence["excursion"]["worst"] == "910"
    (deviation,) = site.record.deviations(site.batch)
    assert deviation.entry_id == recorded[1].id
    (exception,) = site.record.exceptions(site.batch)
    assert (exception.kind.value, exception.ref) == ("out_of_limit", str(recorded[1].id))
    assert f"deviation {deviation.id} opened" in exception.subject

    link = ParameterPlan("camera-1.link", "camera-1", HEALTH_TAG, "1=up", Decimal(1), None)
    for _ in range(2):
        _run(watch.take(Sample(link, None, site.clock(), problem="camera-1: down")))
    _run(watch.take(Sample(SPEED, Decimal(990), site.clock())))
    _run(watch.end(_note(site, 40, topic="phase", to="completing")))
    events = [(e.name, e.value) for e in site.record.entries(site.batch, "events")]
    assert events[0] == (
        "parameter_not_read",
        {"parameter": "camera-1.link", "problem": "camera-1: down"},
    )
    assert events[1][0] == "parameter_out_of_limits_at_end"
    assert events[1][1]["worst"] == "990"
    assert len(site.record.deviations(site.batch)) == 2


def test_checks_are_missed_once_their_grace_is_over_or_production_ended(
    site: ExecutionSite,
) -> None:
    site.complete_through(Step.CHALLENGE)
    alarms = _alarms()
    plans = (
        CheckPlan("weight", timedelta(minutes=60)),
        CheckPlan("code", timedelta(minutes=30)),
    )
    watch = CheckWatch(_recorder(site), alarms, plans, GRACE)
    started = site.clock()
    watch.start(started)
    _run(watch.tick(0.0, site.clock()))
    assert [c.name for c in site.record.checks(site.batch)] == ["weight", "code"]
    assert alarms.get("CHECK_DUE", "code").condition_active
    site.record.record_check(site.batch, "weight", 24, by=site.session("olga"), unit="g")

    site.clock.advance(GRACE + timedelta(seconds=1))
    _run(watch.tick(10.0, site.clock()))
    assert not alarms.get("CHECK_DUE", "weight").condition_active
    assert alarms.get("CHECK_MISSED", "code").condition_active

    site.clock.advance(timedelta(minutes=25))
    _run(watch.tick(20.0, site.clock()))
    _run(watch.end())
    _run(watch.end())
    missed = [e.ref for e in site.record.exceptions(site.batch)]
    assert missed == [
        f"code@{(started).isoformat(timespec='microseconds')}",
        f"code@{(started + timedelta(minutes=30)).isoformat(timespec='microseconds')}",
    ]
    assert {e.kind for e in site.record.exceptions(site.batch)} == {ExceptionKind.MISSED_CHECK}


def test_plc_counts_that_differ_from_the_gateways_are_a_breach_unless_it_restarted(
    site: ExecutionSite,
) -> None:
    report = {"units": 98, "accepted": 90, "reject_reasons": {"no_image": 8}}
    comparisons = [
        CountComparison("total", "total", 100, 98),
        CountComparison("rejected", "bin_sensor", 8, 8),
    ]
    restarted_batch = site.new_batch()
    for batch, restarted in ((site.batch, False), (restarted_batch, True)):
        site.complete_through(Step.PRODUCTION, batch)
        recorder = _recorder(site, batch)
        note = _note(site, 50, topic="reconciliation")
        _run([counts_write(recorder, note, report, comparisons, restarted=restarted)])
        assert recorder.done(Step.COUNTS)
    counts = {e.name: e for e in site.record.entries(site.batch, "counts")}
    assert counts["plc_total"].value == 100
    assert counts["plc_total"].evidence["gateway"] == 98
    assert counts["units"].value == 98
    (breach,) = site.record.exceptions(site.batch)
    assert (breach.kind, breach.ref) == (ExceptionKind.RECONCILIATION_BREACH, "counts:total")
    assert site.record.exceptions(restarted_batch) == []
    restarted_counts = site.record.entries(restarted_batch, "counts")
    assert all(e.reason and "restarted" in e.reason for e in restarted_counts if e.name == "units")


def _plan(low: str, tolerance: int, quantity: int | None) -> FeedPlan:
    return FeedPlan(
        parameters=(),
        checks=(),
        check_grace=GRACE,
        sample_every_s=60.0,
        yield_limits=YieldPlan(Decimal(low), Decimal(100)),
        reconciliation_tolerance=tolerance,
        planned_quantity=quantity,
        order_number=None,
        limits_from="test",
    )


CASES = [
    ({"allocated": 100, "issued": 100, "accepted": 96, "rejected": 4}, True, 0, None, []),
    (
        {"allocated": 100, "issued": 100, "accepted": 90, "rejected": 10},
        True,
        0,
        None,
        ["yield_breach"],
    ),
    ({"allocated": 100, "issued": 100, "accepted": 96, "rejected": 3}, False, 1, None, []),
    (
        {"allocated": 100, "issued": 100, "accepted": 96, "rejected": 2},
        False,
        1,
        None,
        ["reconciliation_breach"],
    ),
    (
        {"allocated": 100, "issued": 100, "accepted": 96, "rejected": 4},
        True,
        0,
        120,
        ["yield_breach"],
    ),
]
"""(code counts, balanced, tolerance, order quantity, exceptions): a yield limit of 95 %, and
a difference within the tolerance is no breach, one beyond it is."""


def test_the_reconciliation_and_the_yield_against_their_limits(site: ExecutionSite) -> None:
    for codes, balanced, tolerance, quantity, breaches in CASES:
        batch = site.new_batch()
        site.complete_through(Step.COUNTS, batch)
        recorder = _recorder(site, batch)
        note = _note(
            site,
            60,
            topic="reconciliation",
            user="olga",
            counts=codes,
            balanced=balanced,
            journal_verified=True,
        )
        olga = recorder.actor("olga")
        _run([reconciliation_write(recorder, _plan("95", tolerance, quantity), note, olga)])
        kinds = sorted(e.kind.value for e in site.record.exceptions(batch))
        assert kinds == breaches, codes
        values = {e.name: e.value for e in site.record.entries(batch, "reconciliation")}
        base = quantity or codes["issued"]
        expected = (Decimal(codes["accepted"] * 100) / base).quantize(Decimal("0.01"))
        assert Decimal(values["yield"]) == expected
        (done,) = [s for s in site.record.steps(batch) if s.step is Step.RECONCILIATION]
        assert done.done_by == "olga"
    assert recorder.actor("nobody") == GATEWAY
