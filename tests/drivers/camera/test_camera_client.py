"""The TCP camera driver against the camera simulator: faults, health, reconnection."""

from __future__ import annotations

import asyncio
import contextlib
import time
import zlib
from collections.abc import AsyncIterator

import pytest

from drivers.base import Frame, LinkState, SmartResult
from drivers.camera.client import TcpCamera
from drivers.camera.protocol import HEADER, HEADER_CRC, MAGIC, FrameEncoder
from simulators.camera.server import CameraMode, CameraServer, gradient_source


async def wait_for_state(camera: TcpCamera, state: LinkState, within: float) -> float:
    """Seconds until `camera` reports `state`; fails after `within`."""
    start = time.monotonic()
    while camera.health().state is not state:
        if time.monotonic() - start > within:
            pytest.fail(f"{camera.name} still {camera.health().state}, wanted {state}")
        await asyncio.sleep(0.02)
    return time.monotonic() - start


async def next_result(camera: TcpCamera, timeout: float = 3.0) -> Frame | SmartResult:
    results = camera.results()
    try:
        async with asyncio.timeout(timeout):
            return await anext(results)
    finally:
        await results.aclose()


@pytest.fixture
async def server() -> AsyncIterator[CameraServer]:
    async with CameraServer(source=gradient_source(64, 48)) as running:
        yield running


@pytest.fixture
async def camera(server: CameraServer) -> AsyncIterator[TcpCamera]:
    async with TcpCamera("cam1", "127.0.0.1", server.port) as cam:
        await wait_for_state(cam, LinkState.UP, 3)
        yield cam


async def test_a_trigger_delivers_a_frame_with_its_unit(
    server: CameraServer, camera: TcpCamera
) -> None:
    await server.trigger("L1-000001")

    frame = await next_result(camera)

    assert isinstance(frame, Frame)
    assert (frame.unit_ref, frame.width, frame.height) == ("L1-000001", 64, 48)
    assert frame.data == gradient_source(64, 48)("L1-000001", None).data
    assert camera.health().details["frames"] == "1"
    assert camera.health().last_good_value_age_s is not None


async def test_smart_mode_delivers_the_decoded_text_and_grade(
    server: CameraServer, camera: TcpCamera
) -> None:
    server.mode = CameraMode.SMART

    await server.trigger("L1-000002", "0109501101530003\x1d21XYZ")
    result = await next_result(camera)

    assert isinstance(result, SmartResult)
    assert (result.unit_ref, result.text) == ("L1-000002", "0109501101530003\x1d21XYZ")
    assert (result.symbology, result.grade) == ("]d2", "A")


async def test_garbage_is_counted_and_the_stream_goes_on(
    server: CameraServer, camera: TcpCamera
) -> None:
    await server.send_garbage(200)
    await server.trigger("L1-000003")

    frame = await next_result(camera)

    assert frame.unit_ref == "L1-000003"
    health = camera.health()
    assert health.state is LinkState.UP
    assert int(health.details["protocol_errors"]) >= 1
    assert health.last_error
    assert "bad_magic" in health.last_error


async def test_a_camera_error_is_shown_in_health(server: CameraServer, camera: TcpCamera) -> None:
    await server.send_error("LIGHT", "illumination failed", unit_ref="L1-000004")
    await server.trigger("L1-000005")

    await next_result(camera)

    health = camera.health()
    assert health.details["last_camera_error"] == "LIGHT"
    assert health.last_error == "camera reports LIGHT on unit L1-000004: illumination failed"
    assert health.state is LinkState.UP


async def test_silence_is_down_within_two_seconds_and_up_when_it_ends(
    server: CameraServer, camera: TcpCamera
) -> None:
    server.silence(2.5)

    down_after = await wait_for_state(camera, LinkState.DOWN, 2.0)
    up_after = await wait_for_state(camera, LinkState.UP, 5.0)

    assert down_after <= 2.0
    assert down_after + up_after >= 2.0
    assert "no frame or heartbeat" in (camera.health().last_error or "")


async def test_a_dropped_connection_is_reconnected(server: CameraServer, camera: TcpCamera) -> None:
    server.disconnect()

    await wait_for_state(camera, LinkState.DOWN, 2.0)
    await wait_for_state(camera, LinkState.UP, 5.0)
    await server.trigger("L1-000006")

    assert (await next_result(camera)).unit_ref == "L1-000006"


async def test_a_partial_frame_then_disconnect_is_a_truncation(
    server: CameraServer, camera: TcpCamera
) -> None:
    await server.send_partial("L1-000007")

    await wait_for_state(camera, LinkState.DOWN, 2.0)
    await wait_for_state(camera, LinkState.UP, 5.0)

    assert int(camera.health().details["protocol_errors"]) == 1
    await server.trigger("L1-000008")
    assert (await next_result(camera)).unit_ref == "L1-000008"


async def test_nobody_listening_is_down_with_the_reason() -> None:
    async with CameraServer() as probe:
        port = probe.port
    async with TcpCamera("cam9", "127.0.0.1", port) as cam:
        await wait_for_state(cam, LinkState.DOWN, 2.0)
        health = cam.health()
    assert health.last_error
    assert f"cannot connect to 127.0.0.1:{port}" in health.last_error
    assert health.details["endpoint"] == f"127.0.0.1:{port}"


async def test_a_slow_consumer_loses_the_oldest_results_counted(server: CameraServer) -> None:
    async with TcpCamera("cam2", "127.0.0.1", server.port, queue_size=2) as cam:
        await wait_for_state(cam, LinkState.UP, 3)
        for n in range(5):
            await server.trigger(f"U{n}")
        while cam.health().details["frames"] != "5":
            await asyncio.sleep(0.01)

        got = [(await next_result(cam)).unit_ref for _ in range(2)]

        assert got == ["U3", "U4"]
        assert cam.health().details["dropped"] == "3"


async def test_a_fatal_violation_drops_the_connection_and_reconnects() -> None:
    header = HEADER.pack(MAGIC, 9, 1, 1, 0, 1, 0, 4, 4, 16, 0, b"U1")
    bad = header + HEADER_CRC.pack(zlib.crc32(header))
    connections = 0

    async def peer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        writer.write(FrameEncoder().heartbeat() + bad)
        with contextlib.suppress(OSError):
            await reader.read()
        writer.close()

    listener = await asyncio.start_server(peer, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        async with TcpCamera("cam3", "127.0.0.1", port) as cam:
            async with asyncio.timeout(3):
                while connections < 3:
                    await asyncio.sleep(0.01)
            health = cam.health()
    finally:
        listener.close()
        await listener.wait_closed()
    assert health.state is LinkState.DOWN
    assert int(health.details["protocol_errors"]) >= 2
    assert "unsupported_version" in (health.last_error or "")


async def test_results_end_when_the_camera_is_closed(server: CameraServer) -> None:
    cam = TcpCamera("cam4", "127.0.0.1", server.port)
    cam.start()
    await wait_for_state(cam, LinkState.UP, 3)

    await cam.close()

    assert [r async for r in cam.results()] == []
    assert cam.health().state is LinkState.DOWN
