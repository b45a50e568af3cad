"""MQTT as an uplink (aiomqtt, MQTT 3.1.1): each outbox message is published with QoS 1 as a
one-event EPCISDocument (`gateway.uplink.wire`) and acknowledged by the broker's PUBACK.

Topics: `{prefix}/{site}/{line}/epcis` for events (the message's sender is `site/line`), and
Sparkplug B-style state for the gateway's telemetry under `{prefix}/{site}/{node}/`:

- `NBIRTH` after every connect: `bdSeq` and the first metrics, `seq` 0;
- `NDATA` every `telemetry_every_s`: the metrics, `seq` 1…255 then 0 again;
- `NDEATH` with the same `bdSeq`: the broker's last will when the connection is lost, and
  published by the gateway itself before a clean disconnect.

`bdSeq` counts connections (0…255). The payloads are JSON (`{"timestamp", "seq", "metrics":
[{"name", "value"}]}`), not Sparkplug B's protobuf, and the namespace is `{prefix}`, not
`spBv1.0`, so that a Sparkplug host does not misread them.

The messages of a page are published in order, `inflight` of them at a time waiting for their
PUBACK, the window refilled as PUBACKs arrive (`_PubackWindow`); a lost connection, or no PUBACK
for `ack_timeout_s`, fails what is not acknowledged yet, and those are published again after
the reconnect (QoS 1 is at least once: receivers deduplicate by eventID).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from ebr.outbox import OutboxMessage
from gateway.uplink.uplinks import Delivery, UplinkUnavailableError
from gateway.uplink.wire import single_documents

Metrics = Mapping[str, str | int | float | bool]


class MqttUplink:
    kind = "mqtt"

    def __init__(
        self,
        name: str,
        host: str,
        port: int = 1883,
        *,
        site_id: str,
        node_id: str = "gateway",
        topic_prefix: str = "tracegate",
        client_id: str | None = None,
        username: str | None = None,
        password: str | None = None,
        keepalive_s: int = 30,
        ack_timeout_s: float = 10.0,
        inflight: int = 100,
        telemetry: Callable[[], Metrics] | None = None,
        telemetry_every_s: float = 10.0,
    ) -> None:
        self.name = name
        self.host = host
        self.port = port
        self.site_id = site_id
        self.node_id = node_id
        self.prefix = topic_prefix.rstrip("/")
        self.client_id = client_id or f"tracegate-{site_id}-{node_id}-{name}"
        self.username = username
        self.password = password
        self.keepalive_s = keepalive_s
        self.ack_timeout_s = ack_timeout_s
        self.inflight = inflight
        self.telemetry = telemetry
        self.telemetry_every_s = telemetry_every_s
        self.bd_seq = -1
        self._seq = 0
        self._client: aiomqtt.Client | None = None
        self._window: _PubackWindow | None = None
        self._telemetry_task: asyncio.Task[None] | None = None

    def state_topic(self, kind: str) -> str:
        return f"{self.prefix}/{self.site_id}/{self.node_id}/{kind}"

    def event_topic(self, sender: str) -> str:
        return f"{self.prefix}/{sender}/epcis"

    async def open(self) -> None:
        self.bd_seq = (self.bd_seq + 1) % 256
        client = aiomqtt.Client(
            self.host,
            self.port,
            identifier=self.client_id,
            username=self.username,
            password=self.password,
            keepalive=self.keepalive_s,
            timeout=self.ack_timeout_s,
            clean_session=True,
            max_inflight_messages=0,
            will=aiomqtt.Will(self.state_topic("NDEATH"), self._death(), qos=1),
        )
        try:
            await client.__aenter__()
        except aiomqtt.MqttError as error:
            raise self._unavailable(f"connect: {error}") from None
        self._client = client
        self._seq = 0
        try:
            await client.publish(self.state_topic("NBIRTH"), self._birth(), qos=1)
        except aiomqtt.MqttError as error:
            await self.close()
            raise self._unavailable(f"NBIRTH: {error}") from None
        self._window = _PubackWindow(client, self.inflight)
        if self.telemetry is not None:
            self._telemetry_task = asyncio.create_task(self._publish_telemetry())

    async def close(self) -> None:
        if self._telemetry_task is not None:
            self._telemetry_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await self._telemetry_task
            self._telemetry_task = None
        client, self._client = self._client, None
        self._window = None
        if client is None:
            return
        with contextlib.suppress(aiomqtt.MqttError, asyncio.TimeoutError):
            async with asyncio.timeout(self.ack_timeout_s):
                await client.publish(self.state_topic("NDEATH"), self._death(), qos=1)
        with contextlib.suppress(aiomqtt.MqttError, asyncio.TimeoutError):
            async with asyncio.timeout(self.ack_timeout_s):
                await client.__aexit__(None, None, None)

    async def send(self, messages: Sequence[OutboxMessage]) -> Delivery:
        window = self._window
        if window is None:
            raise self._unavailable("not connected")
        topics = {sender: self.event_topic(sender) for sender in {m.sender for m in messages}}
        publications = zip(
            (topics[message.sender] for message in messages),
            single_documents(messages, datetime.now(UTC)),
            strict=True,
        )
        acked, failure = await window.publish(publications, len(messages), self.ack_timeout_s)
        delivery = Delivery([message for message, ok in zip(messages, acked, strict=True) if ok])
        if failure is not None:
            raise UplinkUnavailableError(
                f"MQTT broker {self.host}:{self.port}: {failure}",
                acked=delivery.acked,
                hint="check the broker; the messages are kept and published again",
            )
        return delivery

    async def _publish_telemetry(self) -> None:
        while True:
            await asyncio.sleep(self.telemetry_every_s)
            client = self._client
            if client is None or self.telemetry is None:
                return
            self._seq = (self._seq + 1) % 256
            payload = self._payload(self._seq, self.telemetry())
            await client.publish(self.state_topic("NDATA"), payload, qos=0)

    def _birth(self) -> bytes:
        metrics = dict(self.telemetry()) if self.telemetry is not None else {}
        return self._payload(0, {"bdSeq": self.bd_seq, **metrics})

    def _death(self) -> bytes:
        return self._payload(None, {"bdSeq": self.bd_seq})

    def _payload(self, seq: int | None, metrics: Metrics) -> bytes:
        body: dict[str, Any] = {"timestamp": int(time.time() * 1000)}
        if seq is not None:
            body["seq"] = seq
        body["metrics"] = [{"name": name, "value": value} for name, value in metrics.items()]
        return json.dumps(body, separators=(",", ":")).encode()

    def _unavailable(self, reason: str) -> UplinkUnavailableError:
        return UplinkUnavailableError(
            f"MQTT broker {self.host}:{self.port}: {reason}",
            hint="check that the broker runs and is reachable; the messages are kept",
        )


class _PubackWindow:
    """The event publishes of one connection: QoS 1, in order, at most `size` waiting for their
    PUBACK, the window refilled as PUBACKs arrive.

    Why aiomqtt's paho client is used directly here: `aiomqtt.Client.publish` costs, per
    message, an `asyncio.Event`, an `asyncio.wait_for` and a count of every pending call (a scan
    that grows with the window), and each had to run in a task of its own to keep a window in
    flight; paho's own in-flight limit rescans its whole queue of unacknowledged messages on every
    PUBACK. With 1,000 in flight these scans and tasks took most of a backlog's drain
    (bench/uplink.py). So the events go out through paho's `publish` with paho's in-flight limit
    off (this window is the limit) and their PUBACKs come through paho's `on_publish`, chained in
    front of aiomqtt's own handler, which still serves aiomqtt's publishes (NBIRTH, NDATA,
    NDEATH). The connection, its event-loop integration and the will stay aiomqtt's."""

    def __init__(self, client: aiomqtt.Client, size: int) -> None:
        self.size = size
        self._paho: paho.Client = client._client
        self._lost: asyncio.Future[None] = client._disconnected
        self._waiting: dict[int, int] = {}
        """paho's message id → position in the page being published."""
        self._acked: list[bool] = []
        self._refused: str | None = None
        self._progress: asyncio.Future[None] | None = None
        aiomqtt_on_publish = client._on_publish

        def on_publish(
            client: paho.Client,
            userdata: Any,
            mid: int,
            reason_code: ReasonCode,
            properties: Properties,
        ) -> None:
            self._acknowledged(mid, reason_code)
            aiomqtt_on_publish(client, userdata, mid, reason_code, properties)

        self._paho.on_publish = on_publish
        self._lost.add_done_callback(lambda _: self._wake())

    async def publish(
        self, publications: Iterator[tuple[str, bytes]], count: int, timeout_s: float
    ) -> tuple[list[bool], str | None]:
        """Which of the `count` publications (topic, payload) the broker acknowledged, and why
        the others were not (None when all were): the connection lost, a publish refused by the
        client, or no PUBACK for `timeout_s`."""
        self._acked = acked = [False] * count
        self._refused = None
        waiting = self._waiting
        sent = 0
        try:
            while True:
                while sent < count and len(waiting) < self.size:
                    topic, payload = next(publications)
                    try:
                        info = self._paho.publish(topic, payload, qos=1)
                    except ValueError as error:
                        return acked, f"publish to {topic!r}: {error}"
                    if info.rc != paho.MQTT_ERR_SUCCESS:
                        return acked, f"publish: {paho.error_string(info.rc)}"
                    waiting[info.mid] = sent
                    sent += 1
                if self._refused is not None:
                    return acked, self._refused
                if not waiting:
                    return acked, None
                if self._lost.done():
                    return acked, self._loss()
                self._progress = asyncio.get_running_loop().create_future()
                try:
                    async with asyncio.timeout(timeout_s):
                        await self._progress
                except TimeoutError:
                    return acked, f"no PUBACK within {timeout_s:g} s"
        finally:
            waiting.clear()
            self._progress = None

    def _acknowledged(self, mid: int, reason_code: ReasonCode) -> None:
        position = self._waiting.pop(mid, None)
        if position is None:
            return
        if reason_code.is_failure:
            self._refused = f"PUBACK {reason_code}"
        else:
            self._acked[position] = True
        self._wake()

    def _wake(self) -> None:
        if self._progress is not None and not self._progress.done():
            self._progress.set_result(None)

    def _loss(self) -> str:
        error = None if self._lost.cancelled() else self._lost.exception()
        return f"connection lost: {error}" if error is not None else "connection lost"
