"""One camera's frames handed out by unit reference: a frame that comes before anyone waits for
it is kept (the newest few), one awaited in vain gives None."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest_asyncio

from drivers.base import Frame, LinkState
from drivers.camera.client import TcpCamera
from gateway.line.frames import FrameRouter
from simulators.camera.server import CameraServer, gradient_source


@pytest_asyncio.fixture
async def camera() -> AsyncIterator[tuple[CameraServer, FrameRouter]]:
    server = CameraServer(source=gradient_source(32, 32))
    await server.start()
    try:
        async with TcpCamera("case-camera", "127.0.0.1", server.port) as client:
            while client.health().state is not LinkState.UP:
                await asyncio.sleep(0.01)
            router = FrameRouter(client, keep=3)
            running = asyncio.create_task(router.run())
            try:
                yield server, router
            finally:
                running.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await running
    finally:
        await server.close()


async def test_a_frame_before_its_waiter_is_kept_for_it(
    camera: tuple[CameraServer, FrameRouter],
) -> None:
    server, router = camera
    await server.trigger("case-1")
    await asyncio.sleep(0.2)
    frame = await router.take("case-1", 1.0)
    assert isinstance(frame, Frame)
    assert frame.unit_ref == "case-1"
    assert await router.take("case-1", 0.2) is None, "a frame is handed out once"


async def test_a_waiter_gets_the_frame_when_it_comes(
    camera: tuple[CameraServer, FrameRouter],
) -> None:
    server, router = camera
    waiting = asyncio.create_task(router.take("case-2-1", 2.0))
    await asyncio.sleep(0.05)
    await server.trigger("case-2")
    await server.trigger("case-2-1")
    frame = await waiting
    assert frame is not None
    assert frame.unit_ref == "case-2-1"
    assert (await router.take("case-2", 1.0)) is not None


async def test_only_the_newest_unclaimed_frames_are_kept(
    camera: tuple[CameraServer, FrameRouter],
) -> None:
    server, router = camera
    for number in range(1, 6):
        await server.trigger(f"case-{number}")
    await asyncio.sleep(0.3)
    assert await router.take("case-1", 0.1) is None
    assert await router.take("case-2", 0.1) is None
    for number in (3, 4, 5):
        assert await router.take(f"case-{number}", 0.1) is not None
