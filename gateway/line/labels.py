"""Case labels: the case's code printed by the case printer and verified from the case camera.

A label that does not verify is scrapped (its code LabelScrapped) and the next code is printed,
up to `attempts` times; the case is recorded only with a verified label.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from drivers.base import Camera, DriverError, Frame, PixelFormat, Printer, PrintItem, SmartResult
from drivers.camera.vision import VerificationResult, Verifier
from ebr.allocation import AllocatedCode


class CaseLabeller:
    def __init__(
        self,
        printer: Printer,
        fields: int,
        camera: Camera,
        verifier: Verifier,
        *,
        timeout_s: float = 3.0,
    ) -> None:
        self.printer = printer
        self.fields = fields
        self.camera = camera
        self.verifier = verifier
        self.timeout_s = timeout_s
        self._waiting: dict[str, asyncio.Future[Frame | SmartResult]] = {}

    async def run(self) -> None:
        """Hand each case camera image to the label waiting for it."""
        images: AsyncIterator[Frame | SmartResult] = self.camera.results()
        async for image in images:
            waiter = self._waiting.pop(image.unit_ref, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(image)

    async def label(self, ref: str, code: AllocatedCode) -> VerificationResult | str:
        """Print `code` on the case `ref` and verify it: the result, or why there is none."""
        self.verifier.assign(ref, code)
        image: asyncio.Future[Frame | SmartResult] = asyncio.get_running_loop().create_future()
        self._waiting[ref] = image
        try:
            text_lines = (code.hri,) * (self.fields - 1)
            await self.printer.send(PrintItem(ref, code.data, text_lines))
            async with asyncio.timeout(self.timeout_s):
                frame = await image
        except DriverError as error:
            return f"case printer: {error}"
        except TimeoutError:
            return f"no image of case label {ref} within {self.timeout_s:g} s"
        finally:
            with contextlib.suppress(KeyError):
                del self._waiting[ref]
        if isinstance(frame, SmartResult):
            return "smart-camera results are not verified"
        return await asyncio.to_thread(
            self.verifier.verify_bytes,
            ref,
            frame.data,
            frame.width,
            frame.height,
            is_png=frame.pixel_format is PixelFormat.PNG,
        )
