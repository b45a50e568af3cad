"""A batch on the simulated line, with its feed: the executed record gets its steps from the
line as the batch advances — the clearance once a second person verified it, the coding
specimen with its image, the challenge, parameters from the PLC and the checkweigher, the checks
due, events, the counts against the PLC's counters and the reconciliation. A batch record that
cannot be written for a while raises an alarm; the line goes on and nothing is lost."""

from __future__ import annotations

import asyncio
import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from ebr.execution.kinds import ExceptionKind, Source, Step
from gateway.line.ebr_closing import yield_percent
from gateway.simulation import SimulationOptions
from tests.e2e.line_site import OPERATOR, OPERATOR_PASSWORD
from tests.gateway.line.ebr_feed_site import (
    VERIFIER,
    fed_line,
    feed_site_file,
    open_record_site,
    until,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

OPTIONS = SimulationOptions(
    rate_upm=600.0, gate_distance=8, autostart=False, frame_size=(320, 240), seed=3
)
UNITS = 40


async def test_the_line_writes_the_batch_into_its_record(tmp_path: Path) -> None:
    records = open_record_site(feed_site_file(tmp_path))
    site, record = records.site, records.record
    batch = site.new_batch()
    operator = records.users.login(OPERATOR, OPERATOR_PASSWORD)
    try:
        async with fed_line(site, batch, OPTIONS, verifier=records.verifier()) as (
            simulation,
            runtime,
            feed,
        ):
            simulation.modbus["checkweigher-1"].set_value("gross_weight_g", 12.5)
            supervisor = runtime.supervisor
            await supervisor.clearance(site.operator, supervisor.checklist, site.signer)
            await until(lambda: feed.recorder.done(Step.CLEARANCE), "the clearance verified")
            await asyncio.to_thread(
                record.record,
                batch,
                "materials_issued",
                "unit labels",
                UNITS + 20,
                source=Source.MANUAL,
                by=operator,
                unit="pcs",
            )
            await asyncio.to_thread(record.complete_step, batch, Step.MATERIALS_ISSUED, operator)
            await runtime.prepare(site.operator)
            await until(lambda: feed.recorder.done(Step.CHALLENGE), "the set-up and challenge")
            refused = _database_away_for(feed.recorder.record, writes=2)
            feed.comment(operator, "first carton checked by hand")
            await supervisor.hold(site.operator, "label roll changed")
            assert await runtime.run_units(UNITS, site.operator) is None
            await until(lambda: feed.finished, "the reconciliation")
            report = runtime.report()
            assert runtime.cases.packed, "cases were packed"
            assert runtime.cases.packed_in is None, "a PLC-count line keeps no map of every unit"
            failures = list(feed.failures)
            failure_alarm = runtime.alarms.get("EBR_FEED_FAILURE", "batch record")
    finally:
        site.store.close()
    assert refused == [2]
    assert len(failures) == 2
    assert all("database is locked" in failure for failure in failures)
    assert failure_alarm.activations == 1
    assert not failure_alarm.condition_active

    steps = [done.step for done in record.steps(batch)]
    assert steps == list(Step)[: list(Step).index(Step.RECONCILIATION) + 1]

    clearance = {e.name: e for e in record.entries(batch, "clearance")}
    assert clearance["checklist item 1"].recorded_by == OPERATOR
    assert clearance["checklist item 1"].source is Source.MANUAL
    assert clearance["verified"].recorded_by == VERIFIER

    (specimen,) = record.entries(batch, "setup")
    image = specimen.evidence["image"]
    png = (site.config.base_dir / image["file"]).read_bytes()
    assert hashlib.sha256(png).hexdigest() == image["sha256"]
    assert png.startswith(b"\x89PNG")
    assert specimen.value["data"]

    (challenge,) = record.entries(batch, "challenge")
    assert challenge.value["passed"] is True
    for outcome in challenge.value["outcomes"]:
        png = (site.config.base_dir / outcome["image_file"]).read_bytes()
        assert hashlib.sha256(png).hexdigest() == outcome["image_sha256"]

    parameters = record.entries(batch, "parameters")
    speeds = [Decimal(e.value) for e in parameters if e.name == "line_speed"]
    assert len(speeds) >= 2
    assert set(speeds) == {600}
    weights = [Decimal(e.value) for e in parameters if e.name == "carton_weight"]
    assert set(weights) == {Decimal("12.5")}
    assert {e.name for e in parameters} >= {"plc-1.link", "printer-1.link", "camera-1.link"}
    off = [
        (e.name, e.value, e.source.value, e.recorded_at.isoformat())
        for e in parameters
        if e.source is not Source.TAG or not e.in_limits
    ]
    assert not off, off

    counts = {e.name: e.value for e in record.entries(batch, "counts")}
    assert counts["units"] == report["units"]
    assert counts["plc_rejected"] == report["reject_confirmed"]
    assert counts["plc_total"] >= report["units"]

    reconciliation = {e.name: e.value for e in record.entries(batch, "reconciliation")}
    assert reconciliation["balanced"] is True
    assert reconciliation["codes_unaccounted"] == 0
    assert Decimal(reconciliation["yield"]) == yield_percent(report["accepted"], report["units"])

    events = record.entries(batch, "events")
    (comment,) = [e for e in events if e.name == "comment"]
    assert (comment.recorded_by, comment.source) == (OPERATOR, Source.MANUAL)
    stops = [e.value["reason"] for e in events if e.name == "line_stopped"]
    assert "label roll changed" in stops, stops
    assert [e.name for e in events].count("line_resumed") >= 1
    alarms = {e.value["alarm"] for e in events if e.name == "alarm"}
    assert {"CHECK_DUE", "CHECK_MISSED", "EBR_FEED_FAILURE"} <= alarms

    (check,) = record.checks(batch)
    assert check.name == "code_readability"
    assert not check.done
    kinds = [item.kind for item in record.exceptions(batch)]
    assert kinds == [ExceptionKind.MISSED_CHECK]


def _database_away_for(record: Any, *, writes: int) -> list[int]:
    """The record's next `writes` parameter values fail as when the database is locked; the
    list returned holds how many did."""
    real = record.record
    failed = [0]

    def flaky(batch: int, section: str, *args: Any, **kwargs: Any) -> int:
        if section == "parameters" and failed[0] < writes:
            failed[0] += 1
            raise OperationalError("INSERT INTO ebr_entries", {}, Exception("database is locked"))
        return int(real(batch, section, *args, **kwargs))

    record.record = flaky
    return failed
