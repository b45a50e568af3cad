"""A running line on the gateway's OPC UA server: an MES client reads the line's state and
counters while the batch runs and receives each batch phase change as an event; the site's
server carries the OPEN-SCS pool manager."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from asyncua import Client, ua

from gateway.line.session import run_batch
from gateway.opcua_server.openscs import INSTANCE_NAMESPACE_URI
from gateway.opcua_server.site_server import site_server
from gateway.simulation import LineSimulation, SimulationOptions
from tests.e2e.line_site import OPERATOR, OPERATOR_PASSWORD, demo_site, open_line_site

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

EXECUTE = 6


class PhaseEvents:
    def __init__(self) -> None:
        self.to_phases: list[str] = []

    def event_notification(self, event: Any) -> None:
        self.to_phases.append(event.ToPhase)


async def test_the_running_line_is_published_to_the_mes(tmp_path: Path) -> None:
    site = open_line_site(demo_site(tmp_path))
    line = site.config.lines[0]
    options = SimulationOptions(
        rate_upm=600.0, gate_distance=8, autostart=False, frame_size=(320, 240), seed=9
    )
    states: set[int] = set()
    events = PhaseEvents()
    try:
        async with (
            LineSimulation(line, base_dir=site.config.base_dir, options=options),
            site_server(site.config, site.store) as server,
        ):
            client = Client(server.endpoint, timeout=10)
            client.set_user(OPERATOR)
            client.set_password(OPERATOR_PASSWORD)
            async with client:
                ns = await client.get_namespace_index(f"urn:tracegate:{site.config.site.id}")

                def node(path: str) -> Any:
                    return client.get_node(ua.NodeId(f"Site.Lines.{line.id}.{path}", ns))

                subscription = await client.create_subscription(50, events)
                await subscription.subscribe_events(
                    client.nodes.server, client.get_node(ua.NodeId("Types.BatchPhaseEventType", ns))
                )
                running = asyncio.create_task(
                    run_batch(
                        site.store,
                        line,
                        site.batch_id,
                        site.operator,
                        units=60,
                        stop=asyncio.Event(),
                        server=server,
                    )
                )
                while not running.done():
                    states.add(await node("PackMLState").read_value())
                    await asyncio.sleep(0.2)
                report = running.result()
                total = await node("TotalCount").read_value()
                good = await node("GoodCount").read_value()
                status = await node("CurrentBatch.Status").read_value()
                batch = await node("CurrentBatch.BatchId").read_value()
                plc = await node(f"Devices.{line.devices[0].id}.ConnectionState").read_value()
                openscs = await client.get_namespace_index(INSTANCE_NAMESPACE_URI)
                pool = client.get_node(ua.NodeId("OpenSCS.PoolManager", openscs))
                pool_name = (await pool.read_browse_name()).Name
                await asyncio.sleep(0.3)
    finally:
        site.store.close()
    assert report["reconciliation_balanced"], report
    assert EXECUTE in states
    assert (total, good) == (report["units"], report["accepted"])
    assert (batch, status) == (site.batch_id, "reconciled")
    assert plc == "up"
    assert pool_name == "PoolManager"
    assert events.to_phases == ["clearance", "challenge", "running", "completing", "reconciled"]
