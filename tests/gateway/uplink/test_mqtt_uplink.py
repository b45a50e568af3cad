"""The MQTT uplink against real Mosquitto brokers: the broker stopped and restarted while a batch
runs loses and duplicates nothing for a subscriber; NBIRTH, NDATA and NDEATH carry bdSeq, and
the broker publishes the death certificate when the gateway's connection is lost."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import Engine

from drivers.backoff import Backoff
from gateway.uplink.dispatcher import Dispatcher, DispatcherSettings
from gateway.uplink.mqtt import MqttUplink
from tests.gateway.uplink.mqtt_brokers import (
    Subscriber,
    private_broker_or_skip,
    shared_broker_or_skip,
    subscribed,
)
from tests.gateway.uplink.test_epcis_http_uplink import drained, produce
from tests.gateway.uplink.test_outbox_feed import exported_bodies
from tests.gateway.uplink.uplink_fixtures import event_ids, fed_line


@contextlib.asynccontextmanager
async def running(dispatcher: Dispatcher) -> AsyncIterator[None]:
    task = asyncio.create_task(dispatcher.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_the_broker_stopped_and_restarted_while_the_batch_runs_loses_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    broker = private_broker_or_skip(tmp_path)
    try:
        fed = fed_line(engine, destinations=("plant-broker",), units=120, cases=12)
        units, cases = fed.line.units, fed.line.cases
        prefix = f"tg-{uuid.uuid4().hex[:8]}"
        uplink = MqttUplink(
            "plant-broker",
            "127.0.0.1",
            broker.port,
            site_id="plant-1",
            topic_prefix=prefix,
            ack_timeout_s=2,
        )
        dispatcher = Dispatcher(
            fed.outbox,
            uplink,
            settings=DispatcherSettings(
                page=25, idle_s=0.02, backoff=Backoff(initial=0.05, cap=0.3)
            ),
        )
        subscriber = Subscriber(
            "127.0.0.1", broker.port, (f"{prefix}/+/+/epcis",), f"receiver-{prefix}"
        )
        async with subscribed(subscriber), running(dispatcher):
            await produce(fed, units[:30], cases[:3])
            await drained(fed)
            broker.stop()
            await produce(fed, units[30:90], cases[3:9])
            await asyncio.sleep(0.3)
            assert dispatcher.health().state.value == "down"
            assert len(fed.outbox.pending("plant-broker", limit=1000)) >= 60
            broker.start()
            await produce(fed, units[90:], cases[9:])
            await drained(fed)
            expected = event_ids(exported_bodies(fed))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(20):
                    while len(subscriber.events) < len(expected):
                        await asyncio.sleep(0.05)
            missing = [expected.index(e) for e in expected if e not in subscriber.seen]
            assert not missing, (
                f"missing {missing} of {len(expected)}; got {len(subscriber.events)}, "
                f"{subscriber.duplicates} duplicates, {len(subscriber.raw)} raw, "
                f"stats {dispatcher.stats}"
            )
        assert subscriber.event_ids() == expected, "every event once, in the batch's order"
        assert dispatcher.health().state.value == "up"
        topics = {topic for topic, _ in subscriber.raw}
        assert topics == {f"{prefix}/plant-1/line-1/epcis"}
    finally:
        broker.stop()


def metrics(payload: bytes) -> dict[str, object]:
    return {m["name"]: m["value"] for m in json.loads(payload)["metrics"]}


async def wait_for(subscriber: Subscriber, kind: str, count: int = 1) -> list[bytes]:
    async with asyncio.timeout(10):
        while True:
            found = [p for t, p in subscriber.raw if t.endswith(f"/{kind}")]
            if len(found) >= count:
                return found
            await asyncio.sleep(0.02)


async def test_birth_data_and_death_carry_bd_seq_and_the_broker_announces_a_lost_gateway() -> None:
    host, port = shared_broker_or_skip()
    prefix = f"tg-{uuid.uuid4().hex[:8]}"
    uplink = MqttUplink(
        "plant-broker",
        host,
        port,
        site_id="plant-1",
        node_id="gw-1",
        topic_prefix=prefix,
        telemetry=lambda: {"outbox_rows": 7, "line-1/state": "running"},
        telemetry_every_s=0.05,
    )
    subscriber = Subscriber(host, port, (f"{prefix}/plant-1/gw-1/#",), f"watch-{prefix}")
    async with subscribed(subscriber):
        await uplink.open()
        (birth,) = await wait_for(subscriber, "NBIRTH")
        assert metrics(birth) == {"bdSeq": 0, "outbox_rows": 7, "line-1/state": "running"}
        assert json.loads(birth)["seq"] == 0
        data = await wait_for(subscriber, "NDATA", 2)
        assert [json.loads(p)["seq"] for p in data[:2]] == [1, 2]
        await uplink.close()
        (death,) = await wait_for(subscriber, "NDEATH")
        assert metrics(death) == {"bdSeq": 0}

        await uplink.open()
        births = await wait_for(subscriber, "NBIRTH", 2)
        assert metrics(births[1])["bdSeq"] == 1
        assert uplink._client is not None
        sock = uplink._client._client.socket()
        assert isinstance(sock, socket.socket)
        sock.shutdown(socket.SHUT_RDWR)
        deaths = await wait_for(subscriber, "NDEATH", 2)
        assert metrics(deaths[1]) == {"bdSeq": 1}, "the broker published the last will"
        await uplink.close()
