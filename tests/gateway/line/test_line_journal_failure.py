"""Production records that cannot be written (a full disk, a database gone read-only) stop the
line: the PLC is stopped, `JOURNAL_FAILURE` stands, and no unit gets a code after it, instead of
codes printed for units that can only be rejected (found by the chaos campaign's full-disk
trial). The store's refusal is real: a trigger makes SQLite abort every journal insert."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from gateway.line.devices import open_line_devices
from gateway.line.runtime import JOURNAL_FAILURE_STOP, LineRuntime
from gateway.simulation import LineSimulation
from simulators.line_plc.packml import State
from tests.e2e.line_site import clean_line, demo_site, open_line_site, until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

REFUSE_JOURNAL = """
CREATE TRIGGER refuse_journal BEFORE INSERT ON journal_events
BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END
"""


async def test_a_journal_that_refuses_writes_stops_the_line(tmp_path: Path) -> None:
    site = open_line_site(demo_site(tmp_path))
    line = site.config.lines[0]
    options = clean_line(seed=3)
    try:
        async with (
            LineSimulation(line, base_dir=site.config.base_dir, options=options) as simulation,
            open_line_devices(line, site.config.base_dir) as devices,
            LineRuntime(site.store, line, site.batch_id, devices) as runtime,
        ):
            plc = simulation.plc
            assert plc is not None
            ledger = runtime.pipeline.ledger
            await runtime.prepare(site.operator)
            await until(lambda: len(ledger.accepted) >= 5, "five accepted units")

            with site.store.engine.begin() as conn:
                conn.execute(text(REFUSE_JOURNAL))
            producing = asyncio.create_task(runtime.run_units(10_000, site.operator))
            await until(lambda: runtime.stopped_by is not None, "the line stopped")
            assert runtime.stopped_by is not None
            assert runtime.stopped_by.startswith(JOURNAL_FAILURE_STOP)
            assert "database or disk is full" in runtime.stopped_by
            standing = {a.id for a in runtime.alarms.standing()}
            assert "JOURNAL_FAILURE" in standing
            await until(
                lambda: plc.machine.state in (State.STOPPING, State.STOPPED), "the PLC stopped"
            )
            issued = len(ledger.issued)
            await asyncio.sleep(1.5)
            assert len(ledger.issued) == issued, "codes were issued after the line stopped"

            with site.store.engine.begin() as conn:
                conn.execute(text("DROP TRIGGER refuse_journal"))
            ended_early = await asyncio.wait_for(producing, 120)
            assert ended_early == runtime.stopped_by
    finally:
        site.store.close()
