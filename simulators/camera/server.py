"""Camera simulator serving the TCP frame stream (docs/protocols/camera.md).

Per trigger it sends, to every connected receiver, an image of the unit taken from a frame
*source*, or in smart-camera mode a decoded result. The source is any callable
`(unit_ref, payload) -> SourceOutput`; `gradient_source` is a cheap built-in one, and
`render_source` draws the printed DataMatrix with `simulators.camera.render`.

Faults can be injected at any time: `disconnect()`, `send_garbage()`, `send_partial()`,
`silence()`, and, per write, those of `simulators.faults.Faults` (delay, garbage, split and
truncated writes, silence) through the server's `FaultInjector`.

A line-based control port drives a standalone simulator (`python -m simulators.camera`):
`TRIGGER <unit_ref> [payload]`, `ERROR <code> <message>`, `RATE <units per minute>`,
`FAULT disconnect | garbage [bytes] | partial <unit_ref> | silence <seconds> | delay <seconds>`.
Each command is answered by one line, `OK …` or `ERR <what is wrong>`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import zlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, cast

import cv2
import numpy as np

from drivers.base import PixelFormat
from drivers.camera.protocol import (
    HEARTBEAT_INTERVAL_S,
    FrameEncoder,
    FrameEncodingError,
    png_dimensions,
)
from simulators.faults import FaultInjector, Faults, FaultyWriter, shut_down
from simulators.serving import AsyncServer


@dataclass(frozen=True, slots=True)
class SourceImage:
    width: int
    height: int
    pixel_format: PixelFormat
    data: bytes


SourceOutput = SourceImage | tuple[int, int, bytes] | bytes
"""An image, (width, height, mono8 pixels), or the bytes of a PNG file."""
FrameSource = Callable[[str, str | None], SourceOutput]


@dataclass(frozen=True, slots=True)
class SmartReading:
    text: str | None
    symbology: str | None = "]d2"
    grade: str | None = "A"


SmartSource = Callable[[str, str | None], SmartReading]


class CameraMode(StrEnum):
    IMAGE = "image"
    SMART = "smart"


class SimulatorUsageError(ValueError):
    """The simulator was driven wrongly (bad command, bad source output)."""


def as_source_image(output: SourceOutput) -> SourceImage:
    if isinstance(output, SourceImage):
        return output
    if isinstance(output, bytes):
        dims = png_dimensions(output)
        if dims is None:
            raise SimulatorUsageError("the frame source returned bytes that are not a PNG file")
        return SourceImage(dims[0], dims[1], PixelFormat.PNG, output)
    width, height, pixels = output
    return SourceImage(width, height, PixelFormat.MONO8, bytes(pixels))


def gradient_source(
    width: int = 640, height: int = 480, *, png: bool = False
) -> Callable[[str, str | None], SourceImage]:
    """A diagonal gradient with noise seeded by the unit reference: cheap, deterministic."""
    ramp = (np.add.outer(np.arange(height), np.arange(width)) * 255 // (width + height)).astype(
        np.int16
    )

    def source(unit_ref: str, payload: str | None) -> SourceImage:
        rng = np.random.default_rng(zlib.crc32(unit_ref.encode("utf-8")))
        noise = rng.integers(-8, 9, size=(height, width), dtype=np.int16)
        pixels = np.clip(ramp + noise, 0, 255).astype(np.uint8)
        if png:
            ok, encoded = cv2.imencode(".png", pixels)
            assert ok
            return SourceImage(width, height, PixelFormat.PNG, encoded.tobytes())
        return SourceImage(width, height, PixelFormat.MONO8, pixels.tobytes())

    return source


def echo_smart_source(unit_ref: str, payload: str | None) -> SmartReading:
    """A smart camera that reads exactly what was printed (the unit reference if unknown)."""
    return SmartReading(payload if payload is not None else unit_ref)


def render_source(
    width: int = 640, height: int = 480, *, defects: float = 0.0, seed: int = 0
) -> FrameSource:
    """Frames drawn by `simulators.camera.render`: the payload's DataMatrix, with defects.

    A GS1 element string is drawn as GS1 DataMatrix, anything else as plain DataMatrix; with no
    payload the unit reference is drawn. `defects` is the fraction of frames with one defect.
    """
    from simulators.camera.render import (  # noqa: PLC0415  (written apart; heavy)
        DefectKind,
        RenderError,
        defects_for,
        render,
    )

    rng = np.random.default_rng(seed)
    kinds = [kind for kind in DefectKind if kind is not DefectKind.CLEAN]

    def source(unit_ref: str, payload: str | None) -> SourceImage:
        data = payload or unit_ref
        spec = None
        if defects > 0 and rng.random() < defects:
            spec = defects_for(kinds[int(rng.integers(len(kinds)))], rng)
        try:
            image, _ = render(data, gs1=True, size=(width, height), defects=spec, rng=rng)
        except RenderError:
            image, _ = render(data, gs1=False, size=(width, height), defects=spec, rng=rng)
        return SourceImage(width, height, PixelFormat.MONO8, np.ascontiguousarray(image).tobytes())

    return source


class CameraServer(AsyncServer):
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        mode: CameraMode = CameraMode.IMAGE,
        source: FrameSource | None = None,
        smart_source: SmartSource = echo_smart_source,
        heartbeat_interval: float = HEARTBEAT_INTERVAL_S,
        rate_per_min: float | None = None,
        faults: Faults | None = None,
        seed: int | None = None,
    ) -> None:
        self.host = host
        self._requested_port = port
        self.mode = mode
        self.source: FrameSource = source or gradient_source()
        self.smart_source = smart_source
        self.heartbeat_interval = heartbeat_interval
        self.injector = FaultInjector(faults, seed=seed)
        self._encoder = FrameEncoder()
        self._peers: dict[FaultyWriter, asyncio.StreamWriter] = {}
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._sessions: set[asyncio.Task[None]] = set()
        self._silent_until = 0.0
        self._last_sent = 0.0
        self._send_lock = asyncio.Lock()
        self._rate_task: asyncio.Task[None] | None = None
        self._rate_per_min = rate_per_min
        self.sent_frames = 0
        self.triggers = 0
        self.offline = False

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the server first"
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def clients(self) -> int:
        return len(self._peers)

    @property
    def faults(self) -> Faults:
        return self.injector.faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self.injector.faults = faults

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self._requested_port)
        self._spawn(self._heartbeats())
        self.set_rate(self._rate_per_min)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await shut_down(self._server, self.injector, self._sessions)
        self._server = None

    # --- driving -------------------------------------------------------------------------------

    async def trigger(self, unit_ref: str, payload: str | None = None) -> None:
        """Take the picture of one unit and send it to every receiver."""
        if self.offline:
            return
        self.triggers += 1
        now = datetime.now(UTC)
        if self.mode is CameraMode.SMART:
            reading = self.smart_source(unit_ref, payload)
            frame = self._encoder.smart_result(
                unit_ref, reading.text, reading.symbology, reading.grade, taken_at=now
            )
        else:
            image = as_source_image(self.source(unit_ref, payload))
            frame = self._encoder.image(
                unit_ref, image.width, image.height, image.pixel_format, image.data, taken_at=now
            )
        if await self._send(frame):
            self.sent_frames += 1

    async def send_error(self, code: str, message: str, unit_ref: str = "") -> None:
        await self._send(self._encoder.error(code, message, unit_ref=unit_ref))

    def set_rate(self, per_min: float | None) -> None:
        """Trigger units `U000001`, `U000002`, … at `per_min` per minute (None or 0 stops)."""
        if self._rate_task is not None:
            self._rate_task.cancel()
            self._rate_task = None
        self._rate_per_min = per_min
        if per_min:
            self._rate_task = self._spawn(self._run_rate(60.0 / per_min))

    # --- faults --------------------------------------------------------------------------------

    def disconnect(self) -> None:
        """Drop every connection now, as a camera that reboots would."""
        self.injector.disconnect_all()

    def set_offline(self, offline: bool = True) -> None:
        """A camera without power: connections drop, new ones are closed at once, triggers
        take no picture. Back online, it accepts connections again."""
        self.offline = offline
        if offline:
            self.disconnect()

    async def send_garbage(self, size: int = 64) -> None:
        """Random bytes to every receiver now, outside any frame."""
        await self._send_raw(self.injector.random.randbytes(size))

    async def send_partial(self, unit_ref: str, *, then_disconnect: bool = True) -> None:
        """Send the first half of a frame, then close the connections (an orderly FIN, so the
        receiver sees the stream end inside the frame) unless told not to."""
        image = as_source_image(self.source(unit_ref, None))
        frame = self._encoder.image(
            unit_ref, image.width, image.height, image.pixel_format, image.data
        )
        await self._send_raw(frame[: len(frame) // 2])
        if then_disconnect:
            for writer in self._peers.values():
                writer.close()

    def silence(self, seconds: float) -> None:
        """Send nothing at all, not even heartbeats, for `seconds`; connections stay open."""
        self._silent_until = time.monotonic() + seconds

    # --- internals -----------------------------------------------------------------------------

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = cast("asyncio.Task[None] | None", asyncio.current_task())
        if session is not None:
            self._sessions.add(session)
        peer = self.injector.wrap(writer)
        if self.offline:
            peer.abort()
            await peer.close()
            if session is not None:
                self._sessions.discard(session)
            return
        self._peers[peer] = writer
        try:
            if not self._silenced():
                await peer.write(self._encoder.heartbeat(taken_at=datetime.now(UTC)))
            while await reader.read(4096):
                pass
        except (OSError, ConnectionError):
            pass
        finally:
            self._peers.pop(peer, None)
            await peer.close()
            if session is not None:
                self._sessions.discard(session)

    def _silenced(self) -> bool:
        return self.faults.silent or time.monotonic() < self._silent_until

    async def _send(self, data: bytes) -> bool:
        """Write `data` to every receiver through the faults; False when silenced."""
        if self._silenced():
            return False
        async with self._send_lock:
            self._last_sent = time.monotonic()
            peers = list(self._peers)
            results = await asyncio.gather(
                *(peer.write(data) for peer in peers), return_exceptions=True
            )
            for peer, result in zip(peers, results, strict=True):
                if isinstance(result, Exception):
                    self._peers.pop(peer, None)
                    peer.abort()
        return True

    async def _send_raw(self, data: bytes) -> None:
        """Write `data` to every receiver, bypassing the per-write faults."""
        async with self._send_lock:
            for writer in self._peers.values():
                writer.write(data)
            for writer in list(self._peers.values()):
                with contextlib.suppress(OSError, ConnectionError):
                    await writer.drain()

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval / 4)
            if time.monotonic() - self._last_sent >= self.heartbeat_interval:
                await self._send(self._encoder.heartbeat(taken_at=datetime.now(UTC)))

    async def _run_rate(self, period: float) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        count = 0
        while True:
            count += 1
            await self.trigger(f"U{count:06d}")
            next_at += period
            await asyncio.sleep(max(0.0, next_at - loop.time()))


# --- control port ------------------------------------------------------------------------------


async def run_command(server: CameraServer, line: str) -> str:
    """Execute one control-port command; the answer line (without newline)."""
    words = line.strip().split(" ")
    verb, args = words[0].upper(), words[1:]
    try:
        if verb == "TRIGGER" and 1 <= len(args) <= 2:
            await server.trigger(args[0], args[1] if len(args) == 2 else None)
        elif verb == "ERROR" and len(args) >= 2:
            await server.send_error(args[0], " ".join(args[1:]))
        elif verb == "RATE" and len(args) == 1:
            server.set_rate(float(args[0]))
        elif verb == "FAULT" and args:
            await _fault(server, args[0].lower(), args[1:])
        else:
            raise SimulatorUsageError(
                f"unknown command {line.strip()!r}; use TRIGGER <unit> [payload], "
                "ERROR <code> <message>, RATE <per min>, FAULT disconnect|garbage [n]|"
                "partial <unit>|silence <s>|delay <s>"
            )
    except (SimulatorUsageError, FrameEncodingError, ValueError) as error:
        return f"ERR {error}"
    return "OK"


async def _fault(server: CameraServer, name: str, args: list[str]) -> None:
    if name == "disconnect" and not args:
        server.disconnect()
    elif name == "garbage" and len(args) <= 1:
        await server.send_garbage(int(args[0]) if args else 64)
    elif name == "partial" and len(args) == 1:
        await server.send_partial(args[0])
    elif name == "silence" and len(args) == 1:
        server.silence(float(args[0]))
    elif name == "delay" and len(args) == 1:
        server.faults = replace(server.faults, delay=float(args[0]))
    else:
        raise SimulatorUsageError(f"unknown fault {name!r} {' '.join(args)}".strip())


async def serve_control(
    server: CameraServer, host: str = "127.0.0.1", port: int = 0
) -> asyncio.Server:
    """A line-based control port for `server`; close the returned asyncio server when done."""

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                reply = await run_command(server, line.decode("utf-8", "replace"))
                writer.write(reply.encode("utf-8") + b"\n")
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    return await asyncio.start_server(session, host, port)
