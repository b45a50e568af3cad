"""The camera contract: `drivers.base.Camera` as each transport gives it, against its source.

One suite, run against the TCP driver connected to the camera simulator (mono8, PNG, smart
camera, and a stream split and littered with garbage by the fault injector) and against the
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

from drivers.base import Camera, Frame, LinkState, PixelFormat, SmartResult
from drivers.camera.client import TcpCamera
from drivers.camera.folder import MARKER_SUFFIX, FolderCamera
from simulators.camera.server import CameraMode, CameraServer, SourceImage, gradient_source
from simulators.faults import Faults

WIDTH, HEIGHT = 80, 60
GS = "\x1d"


def payload_of(unit_ref: str) -> str:
    return f"0109501101530003{GS}21{unit_ref.replace('-', '')}"


@dataclass
class Rig:
    name: str
    camera: TcpCamera | FolderCamera
    shoot: Callable[[str], Awaitable[None]]
    expected: Callable[[str], SourceImage | str]
    """What a shot of a unit must deliver: the image, or a smart camera's decoded text."""
    clean: bool = True


async def tcp_rig(name: str, server: CameraServer, *, clean: bool = True) -> Rig:
    camera = TcpCamera(f"cam-{name}", "127.0.0.1", server.port)
    source = server.source

    async def shoot(unit_ref: str) -> None:
        await server.trigger(unit_ref, payload_of(unit_ref))

    def expected(unit_ref: str) -> SourceImage | str:
        if server.mode is CameraMode.SMART:
            return payload_of(unit_ref)
        image = source(unit_ref, None)
        assert isinstance(image, SourceImage)
        return image

    return Rig(name, camera, shoot, expected, clean)


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
RIGS = ["tcp-mono8", "tcp-png", "tcp-smart", "tcp-faulty", "folder"]


@pytest.fixture(params=RIGS)
async def rig(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Rig]:
    kind: str = request.param
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
