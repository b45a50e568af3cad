"""A PLC link that drops while the gateway starts delays the start; it does not end
`tracegate run` (found by the chaos campaign: a restarted gateway lost its PLC link for a moment
during the restart's settling and exited with "not connected"). The drop is real: the simulated
PLC closes every client connection, and the driver reconnects by itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.base import LinkState
from gateway.line.devices import open_line_devices
from gateway.line.runtime import LineDevices, LineRuntime
from gateway.simulation import LineSimulation
from simulators.line_plc.packml import State
from simulators.line_plc.server import LinePlcServer
from tests.e2e.line_site import clean_line, demo_site, open_line_site, until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


async def _drop_link(plc: LinePlcServer, devices: LineDevices) -> None:
    """The PLC unreachable for 2 s: the gateway's next requests find the link down."""
    assert plc.drop_connections(refuse_for_s=2.0) >= 1
    await until(lambda: devices.plc.health().state is not LinkState.UP, "the link seen down")


async def test_the_start_and_the_restart_wait_for_a_plc_link_that_dropped(
    tmp_path: Path,
) -> None:
    site = open_line_site(demo_site(tmp_path))
    line = site.config.lines[0]
    options = clean_line(seed=5)
    try:
        async with (
            LineSimulation(line, base_dir=site.config.base_dir, options=options) as simulation,
            open_line_devices(line, site.config.base_dir) as devices,
        ):
            plc = simulation.plc
            assert plc is not None
            async with LineRuntime(site.store, line, site.batch_id, devices) as runtime:
                await _drop_link(plc, devices)
                await runtime.prepare(site.operator)
                assert plc.machine.state is State.EXECUTE
                await until(lambda: len(runtime.pipeline.ledger.accepted) >= 5, "5 accepted")

            await _drop_link(plc, devices)
            async with LineRuntime(site.store, line, site.batch_id, devices) as restarted:
                assert restarted.restart is not None
                assert restarted.restart.revoked == 0
                assert restarted.restart.verified
                assert devices.plc.health().state is LinkState.UP
                await _drop_link(plc, devices)
                await restarted.prepare(site.operator)
                assert plc.machine.state is State.EXECUTE
    finally:
        site.store.close()
