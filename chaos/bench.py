"""A line under test for a series of trials: site, batch, simulated devices, the receivers of
its uplinks and the gateway process, set up and torn down together."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from chaos.invariants import LineTruth
from chaos.line import GatewayProcess, Uplinks, line_options, open_site, write_site
from chaos.receivers import Arrivals, CaptureEndpoint, MqttSink, PrivateBroker
from ebr.outbox.models import OutboxMessageRow
from gateway.line.testbed import SimulatedSite
from gateway.simulation import LineSimulation


@dataclass
class Bench:
    folder: Path
    site: SimulatedSite
    batch_id: int
    simulation: LineSimulation
    gateway: GatewayProcess
    broker: PrivateBroker | None = None
    mqtt: MqttSink | None = None
    http: CaptureEndpoint | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def receivers(self) -> dict[str, Arrivals]:
        found: dict[str, Arrivals] = {}
        if self.mqtt is not None:
            found["broker"] = self.mqtt.arrivals
        if self.http is not None:
            found["capture"] = self.http.arrivals
        return found

    def truth(self, *, settled: bool = False) -> LineTruth:
        return LineTruth(
            self.site.store.engine,
            self.batch_id,
            self.site.line.id,
            self.simulation.ledger(),
            self.receivers,
            settled=settled,
        )

    def outbox_waiting(self) -> int:
        with self.site.store.engine.connect() as conn:
            count = conn.execute(select(func.count()).select_from(OutboxMessageRow))
            return int(count.scalar_one())


@contextlib.asynccontextmanager
async def bench(folder: Path, *, seed: int, uplinks: bool) -> AsyncIterator[Bench]:
    """The demo line in `folder`; with `uplinks`, an MQTT and an EPCIS capture destination
    served by a private Mosquitto and endpoint that the campaign counts at."""
    folder.mkdir(parents=True, exist_ok=True)
    async with contextlib.AsyncExitStack() as stack:
        broker = mqtt = http = None
        if uplinks:
            broker = PrivateBroker(folder / "broker")
            broker.start()
            stack.callback(broker.stop)
            mqtt = MqttSink(broker.port)
            await mqtt.start()
            stack.push_async_callback(mqtt.stop)
            http = CaptureEndpoint()
            await http.start()
            stack.push_async_callback(http.stop)
        site_file = write_site(
            folder / "site", Uplinks(broker.port, http.url) if broker and http else None
        )
        site = open_site(site_file)
        stack.callback(site.store.close)
        batch_id = site.new_batch("CH")
        simulation = LineSimulation(
            site.line, base_dir=site.config.base_dir, options=line_options(seed)
        )
        await stack.enter_async_context(simulation)
        gateway = GatewayProcess(site_file, batch_id, folder / "gateway.log")
        stack.callback(gateway.kill)
        yield Bench(folder, site, batch_id, simulation, gateway, broker, mqtt, http)


async def until(condition: Callable[[], bool], timeout_s: float, every_s: float = 0.1) -> bool:
    """Poll `condition()` until true or `timeout_s`; whether it became true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(every_s)
    return True
