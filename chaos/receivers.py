"""The receiving ends of the uplinks, private to a campaign: a Mosquitto broker and a
subscriber, and an EPCIS capture endpoint, each countable and each able to go down and come
back on the same port."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiomqtt

from gateway.uplink.wire import ReceivedMessage, checked_messages
from simulators.ports import free_port


@dataclass
class Arrivals:
    """Every message a receiver got, by eventID: how often, and under which stream sequence."""

    copies: dict[str, int] = field(default_factory=dict)
    sequence_of: dict[str, tuple[str, int]] = field(default_factory=dict)
    """eventID → (sender, sequence) of its first arrival."""
    conflicts: list[str] = field(default_factory=list)
    """eventIDs that arrived under two different sequences (one event written twice)."""

    def keep(self, messages: list[ReceivedMessage]) -> None:
        for message in messages:
            event_id = message.event_id
            self.copies[event_id] = self.copies.get(event_id, 0) + 1
            where = (str(message.header["sender"]), int(message.header["sequence"]))
            first = self.sequence_of.setdefault(event_id, where)
            if first != where:
                self.conflicts.append(event_id)

    @property
    def redeliveries(self) -> int:
        return sum(count - 1 for count in self.copies.values())


class BrokerError(RuntimeError):
    pass


@dataclass
class PrivateBroker:
    """`mosquitto -c` on a free loopback port with persistence in `folder`, so a persistent
    subscriber's queued messages survive a stop and a start. It keeps the caller's user (run
    as root, Mosquitto would switch to `mosquitto`, which cannot write into `folder`)."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        config = self.folder / "mosquitto.conf"
        config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {self.folder}/\nautosave_interval 1\n"
            f"user {pwd.getpwuid(os.getuid()).pw_name}\n"
        )
        self.process = subprocess.Popen(  # noqa: S603 - the broker, our config file
            ["mosquitto", "-c", str(config)],  # noqa: S607 - found on PATH like make services
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2),
            ):
                return
            time.sleep(0.05)
        self.stop()
        raise BrokerError(f"mosquitto did not listen on port {self.port} within 20 s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


@dataclass
class MqttSink:
    """A persistent QoS 1 session on the broker's EPCIS topics that reconnects after the broker
    comes back."""

    port: int
    identifier: str = "chaos-sink"
    arrivals: Arrivals = field(default_factory=Arrivals)
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())
        async with asyncio.timeout(30):
            await self.subscribed.wait()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                async with aiomqtt.Client(
                    "127.0.0.1", self.port, identifier=self.identifier, clean_session=False
                ) as client:
                    await client.subscribe("#", qos=1)
                    self.subscribed.set()
                    async for message in client.messages:
                        if str(message.topic).endswith("/epcis"):
                            payload = message.payload
                            assert isinstance(payload, bytes | bytearray)
                            self.arrivals.keep(checked_messages(bytes(payload)))
            except aiomqtt.MqttError:
                await asyncio.sleep(0.2)


@dataclass
class CaptureEndpoint:
    """POST /capture over HTTP/1.1 on loopback, answering 204 (acknowledged at once)."""

    port: int = field(default_factory=free_port)
    arrivals: Arrivals = field(default_factory=Arrivals)
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", self.port, reuse_address=True
        )

    async def stop(self) -> None:
        """Down: the port refuses connections and open ones are dropped."""
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                body = await reader.readexactly(length)
                if head.startswith(b"POST") and body:
                    self.arrivals.keep(checked_messages(body))
                writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return
        finally:
            self._writers.discard(writer)
            writer.close()
