"""Issue 9's acceptance: a packaging order through the simulated line, QA reviewing its record by
exception and releasing it.

The order is taken from an approved recipe (two people: the engineer who wrote it, QA who
approved it). On the line one exception of each kind is planted: the line speed taken out of
its limits (a tag value out of limit, which also opens a deviation reviewed through that one
exception), a deviation opened by
the supervisor, a manual override signed by the supervisor, the in-process check left undone
(missed), a yield limit above what the run can reach (yield breach), frames the camera sends
late (late verdicts), and the unit cartons' issue corrected afterwards (data changed); the
cartons are then reconciled within the recipe's limits, so they add no exception. Review lists
exactly those; release is refused with every reason until QA has acknowledged each with a
comment and signed the audit-trail review; QA's signature then releases the batch.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ebr.execution import ReleaseBlockedError
from ebr.execution.kinds import ExceptionKind, Severity, Step
from ebr.models import Batch
from ebr.orders import OrderBook, OrderRequest
from ebr.recipes.master import Recipes
from gateway.line.testbed import DEMO_PRODUCT
from gateway.simulation import SimulationOptions
from simulators.camera.server import CameraServer
from simulators.faults import Faults
from tests.e2e.line_site import OPERATOR, OPERATOR_PASSWORD
from tests.gateway.line.ebr_feed_site import (
    ENGINEER,
    PASSWORD,
    QA,
    SUPERVISOR,
    RecordSite,
    fed_line,
    feed_site_file,
    open_record_site,
    until,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

UNITS = 120
CARTON = "LBL-U"
FEED_SECTION = """\
    ebr:
      sample_every_s: 1
      check_grace_minutes: 0.05
"""
OPTIONS = SimulationOptions(
    rate_upm=600.0, gate_distance=3, autostart=False, frame_size=(320, 240), seed=9
)
"""The reject gate 300 ms after the trigger, the verdict deadline at 2 s: a frame the camera
sends half a second late is verified, but its accept reaches the PLC after the unit passed the
gate, so the PLC answers LATE and the unit is rejected for a late verdict."""
PLANTED = {
    ExceptionKind.OUT_OF_LIMIT,
    ExceptionKind.DEVIATION,
    ExceptionKind.MANUAL_OVERRIDE,
    ExceptionKind.MISSED_CHECK,
    ExceptionKind.YIELD_BREACH,
    ExceptionKind.LATE_VERDICTS,
    ExceptionKind.DATA_CHANGED,
}


def recipe_content(checklist: list[str]) -> dict[str, Any]:
    return {
        "levels": [
            {"level": "unit", "coding_rule": "gs1-unit"},
            {"level": "case", "quantity": 200, "coding_rule": "sscc-logistic"},
            {"level": "pallet", "quantity": 40, "coding_rule": "sscc-logistic"},
        ],
        "lines": ["line-1"],
        "clearance_checklist": checklist,
        "materials": [
            {
                "id": "LBL-U",
                "name": "unit carton",
                "unit": "pcs",
                "issue_per_unit": 1,
                "issue_extra": 30,
                "reconciliation_low_pct": 90,
                "reconciliation_high_pct": 110,
            }
        ],
        "parameters": [
            {
                "name": "line_speed",
                "tag": "plc-1:ns=1;s=Line.Conveyor.RateUpm",
                "unit": "upm",
                "low": 300,
                "high": 700,
            }
        ],
        "checks": [{"name": "code_readability", "interval_minutes": 60}],
        "yield_limits": {"low_pct": 100, "high_pct": 100},
        "reconciliation_tolerance": 0,
    }


def take_order(records: RecordSite) -> int:
    """The engineer's recipe approved by QA, and the enterprise's order made from it."""
    site = records.site
    recipes = Recipes(records.users, site.store.audit)
    engineer = records.session(ENGINEER)
    version = recipes.create(
        engineer,
        recipe_id="amox-pack",
        product_id=DEMO_PRODUCT,
        name="Amoxicillin carton pack",
        content=recipe_content(list(site.line.runtime.clearance_checklist)),
    )
    recipes.sign_as_author(engineer, version.recipe_id, 1, password=PASSWORD, username=ENGINEER)
    recipes.approve(records.session(QA), version.recipe_id, 1, password=PASSWORD, username=QA)
    today = datetime.now(UTC).date()
    order = OrderBook(site.store.engine, audit=site.store.audit, users=records.users).download(
        OrderRequest(
            number=f"PO-{datetime.now(UTC):%H%M%S%f}",
            product_id=DEMO_PRODUCT,
            line_id=site.line.id,
            lot=f"R{datetime.now(UTC):%H%M%S}",
            quantity=UNITS,
            production_date=today,
            expiry=site.config.expiry_for(DEMO_PRODUCT, today),
        ),
        site.operator,
    )
    assert order.control_recipe is not None
    assert order.batch_id is not None
    return order.batch_id


async def test_an_order_is_reviewed_by_exception_and_released(tmp_path: Path) -> None:
    site_file = feed_site_file(
        tmp_path, FEED_SECTION, verdict_deadline_ms=2000, reject_confirm_ms=2500
    )
    records = open_record_site(site_file)
    site, record = records.site, records.record
    operator = records.users.login(OPERATOR, OPERATOR_PASSWORD)
    supervisor = records.session(SUPERVISOR)
    try:
        batch = take_order(records)
        async with fed_line(site, batch, OPTIONS, verifier=records.verifier()) as (
            simulation,
            runtime,
            feed,
        ):
            plc, camera = simulation.plc, simulation.cameras["camera-1"]
            assert plc is not None
            assert isinstance(camera, CameraServer)
            line = runtime.supervisor
            await line.clearance(site.operator, line.checklist, site.signer)
            await until(lambda: feed.recorder.done(Step.CLEARANCE), "the clearance verified")
            issued = await asyncio.to_thread(
                record.issue_material, batch, CARTON, UNITS, by=operator, lot="CT-2611"
            )
            await asyncio.to_thread(record.complete_step, batch, Step.MATERIALS_ISSUED, operator)
            await runtime.prepare(site.operator)
            await until(lambda: feed.recorder.done(Step.CHALLENGE), "the set-up and challenge")

            plc.line.set_rate(850.0)
            await until(
                lambda: _kinds(records, batch)[ExceptionKind.OUT_OF_LIMIT], "out of limit", 15
            )
            plc.line.set_rate(600.0)

            camera.faults = Faults(delay=0.5)
            await until(lambda: runtime.pipeline.counts.late_verdicts, "a late verdict", 15)
            camera.faults = Faults()

            await asyncio.to_thread(
                record.open_deviation,
                batch,
                Severity.MINOR,
                "carton magazine jammed",
                "the carton magazine jammed twice within ten minutes",
                "cartons of the new lot are slightly oversize",
                "QMS-DEV-0042",
                by=supervisor,
            )
            await asyncio.to_thread(
                record.manual_override,
                batch,
                "a unit taken from the reject bin was put back after checking its code by hand",
                "the reject was caused by a dusty camera window, cleaned since",
                supervisor,
                PASSWORD,
                username=SUPERVISOR,
            )
            await asyncio.to_thread(
                record.issue_material,
                batch,
                CARTON,
                UNITS + 30,
                by=operator,
                supersedes=issued,
                reason="the set-up allowance of 30 cartons was left out",
            )
            assert await runtime.run_units(UNITS, site.operator, timeout=120) is None
            await until(lambda: feed.finished, "the reconciliation written")
            assert not feed.failures, feed.failures
        record.reconcile_material(batch, CARTON, used=UNITS, destroyed=0, returned=30, by=operator)
        (cartons,) = record.materials(batch)
        assert (cartons.issued, cartons.expected, cartons.percentage) == (
            Decimal(150),
            Decimal(150),
            Decimal(100),
        )
        assert cartons.in_limits is True
        assert cartons.reconciled
        record.complete_step(batch, Step.MATERIALS_RECONCILED, operator)

        qa = records.session(QA)
        with pytest.raises(ReleaseBlockedError) as refused:
            record.release(batch, qa, PASSWORD, username=QA)
        exceptions = record.exceptions(batch)
        assert set(Counter(e.kind for e in exceptions)) == PLANTED
        _one_exception_each(records, batch, exceptions)
        assert len(refused.value.reasons) == len(exceptions) + 1
        assert "the audit-trail review is not signed" in refused.value.reasons

        for exception in exceptions:
            record.acknowledge(exception.id, qa, f"reviewed {exception.kind.value}: acceptable")
        with pytest.raises(ReleaseBlockedError) as unsigned:
            record.release(batch, qa, PASSWORD, username=QA)
        assert unsigned.value.reasons == ("the audit-trail review is not signed",)
        record.sign_audit_review(batch, qa, PASSWORD, username=QA)
        record.release(batch, qa, PASSWORD)
        with site.store.engine.connect() as conn:
            status = conn.execute(select(Batch.status).where(Batch.id == batch)).scalar_one()
        assert status == "released"
    finally:
        site.store.close()


def _kinds(records: RecordSite, batch: int) -> Counter[ExceptionKind]:
    return Counter(e.kind for e in records.record.exceptions(batch))


def _one_exception_each(records: RecordSite, batch: int, exceptions: list[Any]) -> None:
    """Each planted fault is exactly one exception; the line speed's excursion also opened a
    deviation, reviewed through the excursion's own exception."""
    record = records.record
    kinds = Counter(e.kind for e in exceptions)
    assert kinds == Counter(PLANTED)
    (out_of_limit,) = [e for e in exceptions if e.kind is ExceptionKind.OUT_OF_LIMIT]
    speed = record.entry(int(out_of_limit.ref))
    assert (speed.section, speed.name, speed.in_limits) == ("parameters", "line_speed", False)
    deviations = {d.id: d for d in record.deviations(batch)}
    by_line = [d for d in deviations.values() if d.entry_id == speed.id]
    by_supervisor = [d for d in deviations.values() if d.opened_by == SUPERVISOR]
    assert len(by_line) == len(by_supervisor) == 1
    assert len(deviations) == 2
    assert f"deviation {by_line[0].id} opened" in out_of_limit.subject
