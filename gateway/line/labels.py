"""Container labels: a case's or pallet's code printed by its level's printer and verified from
that level's camera.

A label that does not verify is scrapped (its code LabelScrapped) and the next code is printed,
up to `attempts` times (`packing.py`); the container is recorded only with a verified label.
"""

from __future__ import annotations

import asyncio

from drivers.base import (
    DriverError,
    PixelFormat,
    Printer,
    PrintItem,
    PrintOutcome,
    SmartResult,
)
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
        self._refusals: dict[str, asyncio.Future[str]] = {}

    async def watch_reports(self) -> None:
        """Read the label printer's reports for as long as the line runs: a label the printer
        refuses fails at once instead of at the image timeout, and no report is left queued
        in the driver (one per label, for the whole batch, when nobody read them)."""
        async for report in self.printer.reports():
            waiter = self._refusals.get(report.unit_ref)
            if report.outcome is PrintOutcome.REFUSED and waiter is not None and not waiter.done():
                waiter.set_result(report.reason or "no reason given")

    async def label(self, ref: str, code: AllocatedCode) -> VerificationResult | str:
        """Print `code` on the container `ref` and verify it: the result, or why there is none."""
        self.verifier.assign(ref, code)
        image = self.frames.expect(ref)
        refused = self._refusals[ref] = asyncio.get_running_loop().create_future()
        try:
            text_lines = (code.hri,) * (self.fields - 1)
            await self.printer.send(PrintItem(ref, code.data, text_lines))
            async with asyncio.timeout(self.timeout_s):
                await asyncio.wait((image, refused), return_when=asyncio.FIRST_COMPLETED)
            if refused.done():
                return f"label printer refused label {ref}: {refused.result()}"
            frame = image.result()
        except DriverError as error:
            return f"label printer: {error}"
        except TimeoutError:
            return f"no image of label {ref} within {self.timeout_s:g} s"
        finally:
            self.frames.forget(ref)
            del self._refusals[ref]
            refused.cancel()
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
