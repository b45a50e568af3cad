"""The camera contract: `drivers.base.Camera` as each transport gives it, against its source.

One suite, run against the TCP driver connected to the camera simulator (mono8, PNG, smart
camera, and a stream split and littered with garbage by the fault injector), against the OPC UA
driver connected to the OPC UA camera simulator (mono8, PNG, smart camera) and against the
watched folder fed with files written the way a camera's FTP/SMB export writes them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
import pytest_asyncio

from drivers.base import Camera, Frame, LinkState, PixelFormat, SmartResult
from drivers.camera.client import TcpCamera
from drivers.camera.folder import MARKER_SUFFIX, FolderCamera
from drivers.camera.opcua import OpcUaCamera
from drivers.opcua.settings import OpcUaSettings
from simulators.camera.server import CameraMode, CameraServer, SourceImage, gradient_source
from simulators.faults import Faults
from simulators.opcua_device.camera import OpcUaCameraSimulator
from simulators.ports import free_port

pytestmark = pytest.mark.asyncio(loop_scope="module")

WIDTH, HEIGHT = 80, 60
GS = "\x1d"


def payload_of(unit_ref: str) -> str:
    return f"0109501101530003{GS}21{unit_ref.replace('-', '')}"


@dataclass
class Rig:
    name: str
    camera: TcpCamera | OpcUaCamera | FolderCamera
    shoot: Callable[[str], Awaitable[None]]
    expected: Callable[[str], SourceImage | str]
    """What a shot of a unit must deliver: the image, or a smart camera's decoded text."""
    clean: bool = True
    drop: Callable[[], object] | None = None
    """Drop the camera's connection as a pulled cable would (None: there is no link)."""


async def tcp_rig(name: str, server: CameraServer, *, clean: bool = True) -> Rig:
    return source_rig(name, TcpCamera(f"cam-{name}", "127.0.0.1", server.port), server, clean)


def opcua_rig(name: str, server: OpcUaCameraSimulator) -> Rig:
    settings = OpcUaSettings(
        name=f"cam-{name}",
        endpoint=server.endpoint,
        publishing_interval_ms=20,
        stale_after_s=1.0,
        request_timeout_s=1.0,
    )
    return source_rig(name, OpcUaCamera(settings, root=server.root), server)


def source_rig(
    name: str,
    camera: TcpCamera | OpcUaCamera,
    server: CameraServer | OpcUaCameraSimulator,
    clean: bool = True,
) -> Rig:
    source = server.source

    async def shoot(unit_ref: str) -> None:
        await server.trigger(unit_ref, payload_of(unit_ref))

    def expected(unit_ref: str) -> SourceImage | str:
        if server.mode is CameraMode.SMART:
            return payload_of(unit_ref)
        image = source(unit_ref, None)
        assert isinstance(image, SourceImage)
        return image

    return Rig(name, camera, shoot, expected, clean, server.disconnect)


def folder_rig(directory: Path) -> Rig:
    source = gradient_source(WIDTH, HEIGHT, png=True)
    camera = FolderCamera("cam-folder", directory, poll_interval=0.02, require_marker=True)

    async def shoot(unit_ref: str) -> None:
        image = source(unit_ref, None)
        half = len(image.data) // 2
        path = directory / f"{unit_ref}.png"
        with path.open("wb") as handle:
            handle.write(image.data[:half])
            handle.flush()
            await asyncio.sleep(0.03)
            handle.write(image.data[half:])
        (directory / (path.name + MARKER_SUFFIX)).touch()
        await asyncio.sleep(0.01)

    return Rig("folder", camera, shoot, lambda ref: source(ref, None))


FAULTY = Faults(split_rate=1.0, split_pause=0.002, garbage_rate=0.5)
"""Every write split across two reads, half of them preceded by garbage: nothing may be lost."""
RIGS = [
    "tcp-mono8",
    "tcp-png",
    "tcp-smart",
    "tcp-faulty",
    "opcua-mono8",
    "opcua-png",
    "opcua-smart",
    "folder",
]


class OpcUaCameras:
    """One OPC UA camera server for the module, started on first use (asyncua needs seconds
    to build a server); each test sets its mode and source."""

    def __init__(self) -> None:
        self._server: OpcUaCameraSimulator | None = None

    async def get(self) -> OpcUaCameraSimulator:
        if self._server is None:
            server = OpcUaCameraSimulator(port=free_port())
            await server.start()
            self._server = server
        return self._server

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def opcua_cameras() -> AsyncIterator[OpcUaCameras]:
    cameras = OpcUaCameras()
    try:
        yield cameras
    finally:
        await cameras.close()


@pytest_asyncio.fixture(loop_scope="module", params=RIGS)
async def rig(
    request: pytest.FixtureRequest, tmp_path: Path, opcua_cameras: OpcUaCameras
) -> AsyncIterator[Rig]:
    kind: str = request.param
    if kind.startswith("opcua"):
        opcua = await opcua_cameras.get()
        opcua.source = gradient_source(WIDTH, HEIGHT, png=kind == "opcua-png")
        opcua.mode = CameraMode.SMART if kind == "opcua-smart" else CameraMode.IMAGE
        made = opcua_rig(kind, opcua)
        async with made.camera:
            yield made
        return
    if kind == "folder":
        made = folder_rig(tmp_path)
        async with made.camera:
            yield made
        return
    server = CameraServer(
        source=gradient_source(WIDTH, HEIGHT, png=kind == "tcp-png"),
        mode=CameraMode.SMART if kind == "tcp-smart" else CameraMode.IMAGE,
        faults=FAULTY if kind == "tcp-faulty" else None,
        seed=3,
    )
    async with server:
        made = await tcp_rig(kind, server, clean=kind != "tcp-faulty")
        async with made.camera:
            yield made


async def collect(camera: Camera, count: int, timeout: float = 5.0) -> list[Frame | SmartResult]:
    got: list[Frame | SmartResult] = []
    results = camera.results()
    try:
        async with asyncio.timeout(timeout):
            async for result in results:
                got.append(result)
                if len(got) == count:
                    break
    finally:
        await results.aclose()  # type: ignore[attr-defined]
    return got


async def until_up(camera: Camera, within: float = 3.0) -> None:
    start = time.monotonic()
    while camera.health().state is not LinkState.UP:
        if time.monotonic() - start > within:
            pytest.fail(f"{camera.name} not up after {within} s: {camera.health()}")
        await asyncio.sleep(0.02)


def pixels(result: Frame | SourceImage) -> bytes:
    if result.pixel_format is PixelFormat.MONO8:
        return result.data
    decoded = cv2.imdecode(np.frombuffer(result.data, np.uint8), cv2.IMREAD_UNCHANGED)
    return bytes(decoded.tobytes())


async def test_it_is_a_camera_and_comes_up(rig: Rig) -> None:
    assert isinstance(rig.camera, Camera)

    await until_up(rig.camera)

    health = rig.camera.health()
    assert (health.name, health.kind) == (rig.camera.name, "camera")
    if rig.clean:
        assert health.error_count == 0


async def test_every_shot_delivers_its_unit_once_in_order(rig: Rig) -> None:
    await until_up(rig.camera)
    units = [f"L1-{n:06d}" for n in range(1, 6)]

    for unit in units:
        await rig.shoot(unit)
    results = await collect(rig.camera, len(units))

    assert [r.unit_ref for r in results] == units
    for result in results:
        expected = rig.expected(result.unit_ref)
        if isinstance(expected, str):
            assert isinstance(result, SmartResult)
            assert result.text == expected
            assert result.grade
        else:
            assert isinstance(result, Frame)
            assert (result.width, result.height) == (expected.width, expected.height)
            assert result.pixel_format is expected.pixel_format
            assert pixels(result) == pixels(expected)
        assert result.taken_at.tzinfo is not None
    if not rig.clean:
        assert rig.camera.health().error_count > 0, "the faults injected nothing"


async def test_health_shows_the_last_good_value(rig: Rig) -> None:
    await until_up(rig.camera)
    assert rig.camera.health().last_good_value_age_s is None

    await rig.shoot("L1-000100")
    await collect(rig.camera, 1)

    health = rig.camera.health()
    assert health.state is LinkState.UP
    assert health.last_good_value_age_s is not None
    assert health.last_good_value_age_s < 2.0
    if rig.clean:
        assert health.error_count == 0


async def test_closing_ends_the_results_and_marks_it_down(rig: Rig) -> None:
    await until_up(rig.camera)

    await rig.camera.close()

    assert await collect(rig.camera, 1) == []
    assert rig.camera.health().state is LinkState.DOWN


async def test_a_dropped_link_is_noticed_and_comes_back(rig: Rig) -> None:
    if rig.drop is None:
        pytest.skip("a watched folder has no link to drop")
    await until_up(rig.camera)
    errors = rig.camera.health().error_count

    rig.drop()
    async with asyncio.timeout(2):
        while rig.camera.health().error_count == errors:
            await asyncio.sleep(0.01)
    await until_up(rig.camera, within=5.0)
    await rig.shoot("L1-000200")

    (result,) = await collect(rig.camera, 1)
    assert result.unit_ref == "L1-000200"


async def test_opcua_a_malformed_result_is_counted_lost_and_the_next_delivered(
    opcua_cameras: OpcUaCameras,
) -> None:
    server = await opcua_cameras.get()
    server.mode = CameraMode.IMAGE
    good = gradient_source(WIDTH, HEIGHT)

    def source(unit_ref: str, payload: str | None) -> SourceImage:
        image = good(unit_ref, payload)
        if unit_ref == "L1-BAD":
            return SourceImage(image.width, image.height, image.pixel_format, image.data[:-1])
        return image

    server.source = source
    made = opcua_rig("opcua-malformed", server)
    async with made.camera:
        await until_up(made.camera)
        await server.trigger("L1-BAD")
        await server.trigger("L1-GOOD")
        (result,) = await collect(made.camera, 1)
        health = made.camera.health()
    assert result.unit_ref == "L1-GOOD"
    assert health.details["lost"] == "1"
    assert health.last_error is not None
    assert "mono8 80x60 with 4799 bytes" in health.last_error
