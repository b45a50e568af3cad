"""MQTT brokers for the uplink tests: the shared Mosquitto on 127.0.0.1:1883 (`make test`
ensures it), or a private Mosquitto on a free port that a test may stop and start, and a
subscriber that keeps every EPCIS event once by eventID."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiomqtt
import pytest

from gateway.uplink.wire import ReceivedMessage, checked_messages
from simulators.ports import free_port

SHARED = ("127.0.0.1", 1883)


def shared_broker_or_skip() -> tuple[str, int]:
    try:
        with socket.create_connection(SHARED, timeout=2):
            return SHARED
    except OSError as error:
        pytest.skip(
            f"MQTT TESTS SKIPPED: no Mosquitto on {SHARED[0]}:{SHARED[1]} ({error}); "
            "run `make services` (scripts/ensure-services.sh) to install and start it"
        )


@dataclass
class PrivateBroker:
    """`mosquitto -c` on a free loopback port, persistence in a temporary folder, so that a
    subscriber's session and queued messages survive a stop and a start. The broker keeps the
    test's own user (run as root, Mosquitto would otherwise switch to `mosquitto`, which cannot
    write into the test's folder, and persist nothing)."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        config = self.folder / "mosquitto.conf"
        config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {self.folder}/\nautosave_interval 1\n"
            f"user {pwd.getpwuid(os.getuid()).pw_name}\n"
        )
        self.process = subprocess.Popen(
            ["mosquitto", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2),
            ):
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"mosquitto did not listen on port {self.port} within 10 s")

    def stop(self) -> None:
        """SIGTERM: Mosquitto saves its persistence file and exits."""
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=10)
            self.process = None
            if not (self.folder / "mosquitto.db").exists():
                raise RuntimeError(
                    f"mosquitto saved no persistence file in {self.folder}: the subscriber's "
                    "session would be lost on restart (can the broker's user write there?)"
                )


def private_broker_or_skip(folder: Path) -> PrivateBroker:
    if shutil.which("mosquitto") is None:
        pytest.skip(
            "MQTT OUTAGE TEST SKIPPED: the mosquitto program is not installed; run "
            "`make services` (scripts/ensure-services.sh) to install it"
        )
    broker = PrivateBroker(folder)
    broker.start()
    return broker


@dataclass
class Subscriber:
    """A persistent session (clean_session False, QoS 1) that reconnects after the broker
    restarts and keeps each event once, in the order of first arrival."""

    host: str
    port: int
    topics: tuple[str, ...]
    identifier: str
    events: list[ReceivedMessage] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    duplicates: int = 0
    raw: list[tuple[str, bytes]] = field(default_factory=list)
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)

    def event_ids(self) -> list[str]:
        return [message.event_id for message in self.events]

    async def run(self) -> None:
        while True:
            try:
                async with aiomqtt.Client(
                    self.host, self.port, identifier=self.identifier, clean_session=False
                ) as client:
                    for topic in self.topics:
                        await client.subscribe(topic, qos=1)
                    self.subscribed.set()
                    async for message in client.messages:
                        self._keep(str(message.topic), bytes(message.payload))  # type: ignore[arg-type]
            except aiomqtt.MqttError:
                await asyncio.sleep(0.1)

    def _keep(self, topic: str, payload: bytes) -> None:
        self.raw.append((topic, payload))
        if not topic.endswith("/epcis"):
            return
        for message in checked_messages(payload):
            if message.event_id in self.seen:
                self.duplicates += 1
                continue
            self.seen.add(message.event_id)
            self.events.append(message)


@contextlib.asynccontextmanager
async def subscribed(subscriber: Subscriber) -> AsyncIterator[Subscriber]:
    task = asyncio.create_task(subscriber.run())
    try:
        async with asyncio.timeout(10):
            await subscriber.subscribed.wait()
        yield subscriber
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
