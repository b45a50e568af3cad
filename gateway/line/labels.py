"""Container labels: a case's or pallet's code printed by its level's printer and verified from
that level's camera.

A label that does not verify is scrapped (its code LabelScrapped) and the next code is printed,
up to `attempts` times (`packing.py`); the container is recorded only with a verified label.
"""

from __future__ import annotations

import asyncio

from drivers.base import DriverError, PixelFormat, Printer, PrintItem, SmartResult
from drivers.camera.vision import VerificationResult, Verifier
from ebr.allocation import AllocatedCode
from gateway.line.frames import FrameRouter


class LabelStation:
    """One packing level's label printer and the camera that checks its labels."""

    def __init__(
        self,
        printer: Printer,
        fields: int,
        frames: FrameRouter,
        verifier: Verifier,
        *,
        timeout_s: float = 3.0,
    ) -> None:
        self.printer = printer
        self.fields = fields
        self.frames = frames
        self.verifier = verifier
        self.timeout_s = timeout_s

    async def label(self, ref: str, code: AllocatedCode) -> VerificationResult | str:
        """Print `code` on the container `ref` and verify it: the result, or why there is none."""
        self.verifier.assign(ref, code)
        image = self.frames.expect(ref)
        try:
            text_lines = (code.hri,) * (self.fields - 1)
            await self.printer.send(PrintItem(ref, code.data, text_lines))
            async with asyncio.timeout(self.timeout_s):
                frame = await image
        except DriverError as error:
            return f"label printer: {error}"
        except TimeoutError:
            return f"no image of label {ref} within {self.timeout_s:g} s"
        finally:
            self.frames.forget(ref)
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
