"""One camera's frames handed out by unit reference, to whoever waits for each.

A case camera sends two kinds of frame: the case's contents (`case-<n>`, when the packer
closes the case) and each case label (`case-<n>-<attempt>`, after its print). A label is
awaited before it is printed, but a contents frame can arrive before the PLC's case signal
that asks for it, so frames nobody waits for yet are kept, the newest `keep` of them.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator

from drivers.base import Camera, Frame, SmartResult

Image = Frame | SmartResult


class FrameRouter:
    def __init__(self, camera: Camera, *, keep: int = 16) -> None:
        self.camera = camera
        self.keep = keep
        self._waiting: dict[str, asyncio.Future[Image]] = {}
        self._early: OrderedDict[str, Image] = OrderedDict()

    async def run(self) -> None:
        """Hand each of the camera's frames to its waiter, or keep it for a while."""
        images: AsyncIterator[Image] = self.camera.results()
        async for image in images:
            waiter = self._waiting.pop(image.unit_ref, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(image)
                continue
            self._early[image.unit_ref] = image
            self._early.move_to_end(image.unit_ref)
            while len(self._early) > self.keep:
                self._early.popitem(last=False)

    def expect(self, ref: str) -> asyncio.Future[Image]:
        """The frame of `ref`, done at once when it already came; `forget` it when done."""
        future: asyncio.Future[Image] = asyncio.get_running_loop().create_future()
        early = self._early.pop(ref, None)
        if early is not None:
            future.set_result(early)
        else:
            self._waiting[ref] = future
        return future

    def forget(self, ref: str) -> None:
        waiter = self._waiting.pop(ref, None)
        if waiter is not None:
            waiter.cancel()

    async def take(self, ref: str, timeout_s: float) -> Image | None:
        """The frame of `ref`, or None when none came within `timeout_s`."""
        future = self.expect(ref)
        try:
            async with asyncio.timeout(timeout_s):
                return await future
        except TimeoutError:
            return None
        finally:
            self.forget(ref)
