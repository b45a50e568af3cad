"""A camera over OPC UA (docs/protocols/camera.md, "OPC UA"), on the shared OPC UA client.

The camera counts its results in `Results.Sequence`; the driver subscribes to that counter and
fetches each new result by number (`FetchResult`: the image as a ByteString with its size and
format, or a smart camera's decoded text and grade, with the unit reference and the time the
picture was taken). A counter that jumps is fetched through, so nothing is lost when several
results fall into one publishing interval; a result the camera no longer holds is counted lost.

While the subscription is STALE (session lost, or silent) the camera is DOWN; the first value
after it is the counter as it stood when the subscription was made again, and only results
after it are fetched: pictures taken while the link was down are not delivered late (their
units have no verdict and fail safe, as with the TCP stream). Security is the client's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from drivers.background import (
    AsyncDevice,
    BackgroundTask,
    raise_if_cancelling,
    wait_until_set,
)
from drivers.base import (
    DeviceHealth,
    DriverError,
    Frame,
    LinkState,
    PeerProtocolError,
    PixelFormat,
    Quality,
    SecurityError,
    SmartResult,
    TagScalar,
    TagValue,
)
from drivers.camera import opcua_nodes as nodes
from drivers.camera.protocol import png_dimensions
from drivers.health import HealthTracker
from drivers.opcua.client import OpcUaClient
from drivers.opcua.settings import OpcUaSettings

log = logging.getLogger("tracegate.drivers.camera")

SEQUENCE_QUEUE = 64
"""Changes of `Results.Sequence` the server keeps between publishes (a gap is fetched anyway)."""
_CLOSED = object()


class OpcUaCamera(AsyncDevice):
    """`drivers.base.Camera` over OPC UA. Use as `async with OpcUaCamera(settings) as camera:`.

    Results wait in a bounded queue; if the consumer falls `queue_size` behind, the oldest is
    dropped and counted (its unit then has no verdict and is rejected: the line fails safe).
    `results()` is meant for a single consumer.
    """

    kind = "camera"

    def __init__(
        self, settings: OpcUaSettings, *, root: str = nodes.DEFAULT_ROOT, queue_size: int = 64
    ) -> None:
        self.name = settings.name
        self._endpoint = settings.endpoint
        self._client = OpcUaClient(settings)
        self._nodes = nodes.CameraNodes(root)
        self._health = HealthTracker(self.name, self.kind)
        self._health.detail("endpoint", settings.endpoint)
        self._health.detail("security", f"{settings.policy.value}/{settings.mode.value}")
        self._queue: asyncio.Queue[Frame | SmartResult | object] = asyncio.Queue(queue_size)
        self._counts = {"frames": 0, "smart_results": 0, "dropped": 0, "lost": 0}
        self._baseline_pending = True
        self._last_seq = 0
        self._up = asyncio.Event()
        self._closed = False
        self._supervisor = BackgroundTask(f"camera {self.name}", self._supervise)

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self._supervisor.start()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._supervisor.stop()
        await self._client.close()
        self._up.clear()
        self._health.set_state(LinkState.DOWN, reason="closed")
        self._enqueue(_CLOSED)

    async def wait_until_up(self, timeout: float) -> None:
        await wait_until_set(
            self._up,
            timeout,
            device=self.name,
            hint=self._health.snapshot().last_error
            or f"is the camera at {self._endpoint} on and reachable?",
        )

    @property
    def security_in_use(self) -> str | None:
        """Policy URI and mode of the live secure channel (None while not connected)."""
        return self._client.security_in_use

    # --- drivers.base.Camera ------------------------------------------------------------------

    async def results(self) -> AsyncIterator[Frame | SmartResult]:
        while True:
            item = await self._queue.get()
            if item is _CLOSED:
                self._queue.put_nowait(_CLOSED)
                return
            assert isinstance(item, Frame | SmartResult)
            yield item

    def health(self) -> DeviceHealth:
        return self._health.snapshot({key: str(value) for key, value in self._counts.items()})

    # --- the link -------------------------------------------------------------------------

    async def _supervise(self) -> None:
        try:
            await self._client.open()
        except SecurityError as error:
            self._health.error(error)
            self._health.set_state(LinkState.DOWN, reason=f"refused: {error.message}")
            return
        counter = self._nodes.node(nodes.RESULT_SEQUENCE)
        feed = self._client.subscribe([counter], queue_size=SEQUENCE_QUEUE)
        try:
            async for _, value in feed:
                raise_if_cancelling()
                await self._on_counter(value)
        except DriverError as error:
            raise_if_cancelling()
            self._lost(str(error))
        finally:
            await feed.aclose()  # type: ignore[attr-defined]

    async def _on_counter(self, value: TagValue) -> None:
        if value.quality is not Quality.GOOD:
            self._lost(f"link lost ({value.quality.value})")
            return
        sequence = value.value if isinstance(value.value, int) else 0
        if self._baseline_pending:
            self._baseline_pending = False
            self._last_seq = sequence
            self._up.set()
            self._health.set_state(LinkState.UP, reason=self._endpoint)
            return
        while self._last_seq < sequence:
            raise_if_cancelling()
            self._last_seq += 1
            try:
                self._take(await self._fetch(self._last_seq))
            except PeerProtocolError as error:
                self._health.error(error)
                log.warning("%s", error)
            except DriverError as error:
                raise_if_cancelling()
                self._counts["lost"] += sequence - self._last_seq + 1
                self._health.error(f"result {self._last_seq} not fetched: {error}")
                self._last_seq = sequence

    async def _fetch(self, sequence: int) -> Frame | SmartResult | None:
        outputs = await self._client.call(
            self._nodes.root, self._nodes.node(nodes.FETCH_RESULT), [sequence]
        )
        if len(outputs) != len(nodes.FETCH_OUTPUTS):
            raise self._malformed(sequence, f"{len(outputs)} outputs")
        fields = dict(zip(nodes.FETCH_OUTPUTS, outputs, strict=True))
        kind, unit_ref = fields["Kind"], fields["UnitRef"]
        if kind == nodes.GONE:
            self._counts["lost"] += 1
            self._health.error(f"result {sequence} is no longer held by the camera")
            return None
        if not isinstance(unit_ref, str) or not unit_ref:
            raise self._malformed(sequence, "no unit reference")
        taken_at = _moment(fields["TakenAt"])
        if kind == nodes.SMART:
            return SmartResult(
                unit_ref,
                _text(fields["Text"]),
                _text(fields["Symbology"]),
                _text(fields["Grade"]),
                taken_at,
            )
        if kind != nodes.IMAGE:
            raise self._malformed(sequence, f"kind {kind!r}")
        return self._frame(sequence, unit_ref, taken_at, fields)

    def _frame(
        self,
        sequence: int,
        unit_ref: str,
        taken_at: datetime,
        fields: dict[str, TagScalar | None],
    ) -> Frame:
        width, height, data = fields["Width"], fields["Height"], fields["Image"]
        try:
            pixel_format = PixelFormat(str(fields["PixelFormat"]))
        except ValueError:
            raise self._malformed(sequence, f"pixel format {fields['PixelFormat']!r}") from None
        if not isinstance(width, int) or not isinstance(height, int) or width < 1 or height < 1:
            raise self._malformed(sequence, f"image size {width!r}x{height!r}")
        if not isinstance(data, bytes):
            raise self._malformed(sequence, "the image is not a ByteString")
        if pixel_format is PixelFormat.MONO8 and len(data) != width * height:
            raise self._malformed(sequence, f"mono8 {width}x{height} with {len(data)} bytes")
        if pixel_format is PixelFormat.PNG and png_dimensions(data) != (width, height):
            raise self._malformed(sequence, f"the PNG is not {width}x{height}")
        return Frame(unit_ref, width, height, pixel_format, data, taken_at)

    def _malformed(self, sequence: int, what: str) -> PeerProtocolError:
        self._counts["lost"] += 1
        return PeerProtocolError(
            f"result {sequence} is malformed: {what}",
            device=self.name,
            hint="the camera must follow docs/protocols/camera.md (OPC UA)",
        )

    def _take(self, result: Frame | SmartResult | None) -> None:
        if result is None:
            return
        self._counts["frames" if isinstance(result, Frame) else "smart_results"] += 1
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
        self._baseline_pending = True
        self._up.clear()
        if self._health.state is not LinkState.DOWN:
            self._health.error(reason)
        self._health.set_state(LinkState.DOWN, reason=reason)


def _text(value: TagScalar | None) -> str | None:
    return value if isinstance(value, str) and value else None


def _moment(value: TagScalar | None) -> datetime:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            moment = datetime.fromisoformat(value)
            return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return datetime.now(UTC)
