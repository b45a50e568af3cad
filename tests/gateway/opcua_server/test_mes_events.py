"""What the line runtime publishes reaches a real client: batch phase and alarm events on the
Server object, line values, the current batch and device health."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from asyncua import ua
from sqlalchemy import Engine

from gateway.opcua_server import GatewayOpcUaServer, OpcUaServerError
from tests.gateway.opcua_server.mes_fixtures import (
    SITE,
    make_plant,
    mes_client,
    serving,
    settings,
)


class Events:
    def __init__(self) -> None:
        self.received: asyncio.Queue[Any] = asyncio.Queue()

    def event_notification(self, event: Any) -> None:
        self.received.put_nowait(event)

    async def next(self) -> Any:
        return await asyncio.wait_for(self.received.get(), timeout=5)


async def test_a_subscribed_client_receives_batch_phase_and_alarm_events(engine: Engine) -> None:
    plant = make_plant(engine, units=1, cases=0)
    async with serving(plant) as server, mes_client(server.endpoint) as mes:
        events = Events()
        subscription = await mes.client.create_subscription(50, events)
        phase_type = mes.node("Types.BatchPhaseEventType")
        alarm_type = mes.node("Types.AlarmEventType")
        await subscription.subscribe_events(mes.client.nodes.server, phase_type)
        alarms = Events()
        alarm_subscription = await mes.client.create_subscription(50, alarms)
        await alarm_subscription.subscribe_events(mes.client.nodes.server, alarm_type)

        at = datetime(2026, 11, 29, 8, 30, tzinfo=UTC)
        await server.publish_batch_phase(
            batch_id=plant.batch,
            line_id="line-1",
            lot="AB-123",
            from_phase="challenge",
            to_phase="running",
            user="op",
            reason="vision challenge passed",
            at=at,
        )
        await server.publish_alarm(
            alarm_id="SERIAL_POOL_LOW",
            state="active_unacknowledged",
            priority=3,
            message="Few codes left for the line",
            line_id="line-1",
            detail="42 codes ready",
        )
        phase = await events.next()
        alarm = await alarms.next()

    assert (phase.BatchId, phase.LineId, phase.Lot) == (plant.batch, "line-1", "AB-123")
    assert (phase.FromPhase, phase.ToPhase) == ("challenge", "running")
    assert (phase.UserName, phase.Reason) == ("op", "vision challenge passed")
    assert phase.Time == at
    assert "challenge → running" in phase.Message.Text
    assert (alarm.AlarmId, alarm.AlarmState, alarm.Priority) == (
        "SERIAL_POOL_LOW",
        "active_unacknowledged",
        3,
    )
    assert alarm.Severity == 750
    assert alarm.Message.Text == "Few codes left for the line"
    assert alarm.Detail == "42 codes ready"


async def test_line_values_the_current_batch_and_device_health_are_readable(
    engine: Engine,
) -> None:
    plant = make_plant(engine, units=1, cases=0)
    async with serving(plant) as server, mes_client(server.endpoint) as mes:
        line = server.line("line-1")
        await line.update(
            packml_state=6,
            packml_state_name="Execute",
            good=10,
            rejected=2,
            total=12,
            speed_upm=600,
        )
        await line.update_batch(
            batch_id=plant.batch,
            product_id="amox",
            lot="AB-123",
            status="running",
            counts={"issued": 12, "accepted": 10, "rejected": 2, "unknown": 7},
        )
        seen = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
        await line.update_device("plc-1", state="up", last_update=seen, error_count=1)
        await server.publish_batch_phase(
            batch_id=plant.batch,
            line_id="line-1",
            lot="AB-123",
            from_phase="running",
            to_phase="held",
        )
        with pytest.raises(ValueError, match="no device 'printer-9'"):
            await line.update_device("printer-9", state="down")
        with pytest.raises(OpcUaServerError, match="line 'line-9'"):
            server.line("line-9")

        async def read(path: str) -> Any:
            return await mes.node(f"Site.Lines.line-1.{path}").read_value()

        assert await read("PackMLState") == 6
        assert await read("PackMLStateName") == "Execute"
        assert (await read("GoodCount"), await read("TotalCount")) == (10, 12)
        assert await read("SpeedUpm") == 600.0
        assert await read("CurrentBatch.BatchId") == plant.batch
        assert await read("CurrentBatch.Status") == "held"
        assert await read("CurrentBatch.AcceptedCount") == 10
        assert await read("Devices.plc-1.ConnectionState") == "up"
        assert await read("Devices.plc-1.LastUpdate") == seen
        assert await read("Devices.plc-1.Role") == "line-plc"
        assert await mes.node("Site.SiteId").read_value() == "plant-1"
        variant = await mes.node("Site.Lines.line-1.GoodCount").read_data_value()
        assert variant.Value.VariantType is ua.VariantType.Int64


async def test_installers_run_before_the_server_listens(engine: Engine) -> None:
    plant = make_plant(engine, units=1, cases=0)
    seen: list[int] = []

    async def install(server: Any) -> None:
        ns = await server.register_namespace("urn:test:extension")
        await server.nodes.objects.add_variable(ua.NodeId("Extension", ns), "Extension", 7)
        seen.append(ns)

    server = GatewayOpcUaServer(settings(), SITE, plant.engine, plant.users, installers=[install])
    async with server, mes_client(server.endpoint) as mes:
        assert server.namespace_index == mes.ns
        assert server.asyncua_server.nodes.objects is not None
        ns = await mes.client.get_namespace_index("urn:test:extension")
        assert ns == seen[0]
        assert await mes.client.get_node(ua.NodeId("Extension", ns)).read_value() == 7
