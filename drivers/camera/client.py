"""A camera on the TCP frame stream (docs/protocols/camera.md): the one place that does its I/O."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from drivers.background import AsyncDevice, BackgroundTask
from drivers.backoff import Backoff
from drivers.base import DeviceHealth, Frame, LinkState, PeerProtocolError, SmartResult
from drivers.camera.protocol import (
    SILENCE_TIMEOUT_S,
    DeviceErrorFrame,
    Event,
    FrameParser,
    ImageFrame,
    Limits,
    ProtocolErrorEvent,
    SmartResultFrame,
)
from drivers.health import HealthTracker

log = logging.getLogger("tracegate.drivers.camera")

STABLE_AFTER_S = 2.0
"""A connection that lasted this long resets the backoff; shorter ones (a peer that accepts and
then breaks the protocol) keep backing off, so a broken camera is not hammered."""
_CLOSED = object()


class TcpCamera(AsyncDevice):
    """Receives frames and smart results from one camera, reconnecting with capped backoff.

    The link is UP once a valid frame (a heartbeat will do) arrives on a connection and DOWN
    when the connection is lost, refused, breaks the protocol fatally, or carries no valid frame
    for `silence_timeout` seconds. Results wait in a bounded queue; if the consumer falls that
    far behind, the oldest result is dropped and counted (its unit then has no verdict and is
    rejected downstream: the line fails safe). `results()` is meant for a single consumer.
    """

    def __init__(
        self,
        name: str,
        host: str,
        port: int,
        *,
        silence_timeout: float = SILENCE_TIMEOUT_S,
        connect_timeout: float = 2.0,
        backoff: Backoff | None = None,
        limits: Limits | None = None,
        queue_size: int = 64,
    ) -> None:
        self.name = name
        self.host = host
        self.port = port
        self.silence_timeout = silence_timeout
        self.connect_timeout = connect_timeout
        self._backoff = backoff or Backoff(initial=0.1, cap=2.0)
        self._limits = limits or Limits()
        self._queue: asyncio.Queue[Frame | SmartResult | object] = asyncio.Queue(queue_size)
        self._health = HealthTracker(name, "camera")
        self._health.detail("endpoint", f"{host}:{port}")
        self._counts = {"frames": 0, "smart_results": 0, "dropped": 0, "protocol_errors": 0}
        self._task = BackgroundTask(f"camera {name}", self._run)
        self._closed = False

    def start(self) -> None:
        self._task.start()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._task.stop()
        self._health.set_state(LinkState.DOWN, reason="closed")
        self._enqueue(_CLOSED)

    async def results(self) -> AsyncIterator[Frame | SmartResult]:
        while True:
            item = await self._queue.get()
            if item is _CLOSED:
                return
            assert isinstance(item, Frame | SmartResult)
            yield item

    def health(self) -> DeviceHealth:
        return self._health.snapshot({key: str(value) for key, value in self._counts.items()})

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                transport, link = await asyncio.wait_for(
                    loop.create_connection(
                        lambda: _Link(self, FrameParser(self._limits)), self.host, self.port
                    ),
                    self.connect_timeout,
                )
            except (OSError, TimeoutError) as error:
                self._lost(f"cannot connect to {self.host}:{self.port}: {error or 'timeout'}")
            else:
                connected_at = time.monotonic()
                try:
                    self._lost(await link.watch(self.silence_timeout))
                finally:
                    transport.abort()
                    if time.monotonic() - connected_at >= STABLE_AFTER_S:
                        self._backoff.reset()
            await asyncio.sleep(self._backoff.next_delay())

    def _handle(self, event: Event) -> bool:
        """Act on one event; True if it was a valid frame (proof the link is alive)."""
        if isinstance(event, ProtocolErrorEvent):
            self._counts["protocol_errors"] += 1
            error = PeerProtocolError(
                f"{event.kind.value}: {event.detail} ({event.discarded} bytes dropped)",
                device=self.name,
                hint="check that the camera speaks tracegate camera stream v1 on this port",
            )
            log.warning("%s", error)
            self._health.error(error)
            return False
        if self._health.state is not LinkState.UP:
            self._health.set_state(LinkState.UP, reason=f"{self.host}:{self.port}")
        if isinstance(event, ImageFrame):
            self._counts["frames"] += 1
            self._deliver(
                Frame(
                    event.unit_ref,
                    event.width,
                    event.height,
                    event.pixel_format,
                    event.data,
                    event.taken_at or datetime.now(UTC),
                )
            )
        elif isinstance(event, SmartResultFrame):
            self._counts["smart_results"] += 1
            self._deliver(
                SmartResult(
                    event.unit_ref,
                    event.text,
                    event.symbology,
                    event.grade,
                    event.taken_at or datetime.now(UTC),
                )
            )
        elif isinstance(event, DeviceErrorFrame):
            where = f" on unit {event.unit_ref}" if event.unit_ref else ""
            self._health.error(f"camera reports {event.code}{where}: {event.message}")
            self._health.detail("last_camera_error", event.code)
        return True

    def _deliver(self, result: Frame | SmartResult) -> None:
        self._health.good_value()
        self._enqueue(result)

    def _enqueue(self, item: Frame | SmartResult | object) -> None:
        if self._queue.full():
            dropped = self._queue.get_nowait()
            if isinstance(dropped, Frame | SmartResult):
                self._counts["dropped"] += 1
                self._health.error(f"consumer too slow: dropped the result of {dropped.unit_ref}")
        self._queue.put_nowait(item)

    def _lost(self, reason: str) -> None:
        if self._health.state is not LinkState.DOWN:
            self._health.error(reason)
        self._health.set_state(LinkState.DOWN, reason=reason)


class _Link(asyncio.Protocol):
    """One connection: bytes go straight from the transport into the parser."""

    def __init__(self, camera: TcpCamera, parser: FrameParser) -> None:
        self._camera = camera
        self._parser = parser
        self._ended: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.last_valid = time.monotonic()

    async def watch(self, silence_timeout: float) -> str:
        """Wait until the link ends; why it ended."""
        while not self._ended.done():
            left = self.last_valid + silence_timeout - time.monotonic()
            if left <= 0:
                return f"no frame or heartbeat for {silence_timeout} s"
            await asyncio.wait([self._ended], timeout=left)
        return self._ended.result()

    def data_received(self, data: bytes) -> None:
        events = self._parser.feed(data)
        self._handle(events)
        if self._parser.closed:
            fatal = [e for e in events if isinstance(e, ProtocolErrorEvent) and e.fatal]
            why = f"{fatal[-1].kind.value}: {fatal[-1].detail}" if fatal else "closed"
            self._end(f"protocol violation ({why}), connection dropped")

    def eof_received(self) -> bool:
        self._handle(self._parser.feed_eof())
        self._end("connection closed by the camera")
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._end(f"connection lost: {exc}" if exc else "connection closed by the camera")

    def _handle(self, events: list[Event]) -> None:
        for event in events:
            if self._camera._handle(event):
                self.last_valid = time.monotonic()

    def _end(self, reason: str) -> None:
        if not self._ended.done():
            self._ended.set_result(reason)
