"""Verification off the event loop, behind a bounded queue that refuses work when full.

One line's verifier keeps state that must see frames in order (ROI, duplicates), so each
service runs one worker thread; zxing-cpp, libdmtx and OpenCV release the GIL, so several
lines' services use several cores. A full queue raises `BackPressureError` at once instead of
letting frames pile up past the reject gate; a frame that takes longer than `frame_timeout_s`
is answered with a rejection so the PLC always gets a verdict in time.
"""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from drivers.camera.vision.verify import (
    FailureReason,
    Verdict,
    VerificationResult,
    Verifier,
)


class BackPressureError(RuntimeError):
    """The queue is full: the line produces frames faster than they are verified."""


@dataclass(frozen=True, slots=True)
class _Job:
    unit_ref: str
    image: npt.NDArray[np.uint8] | None
    raw: tuple[bytes, int, int, bool] | None
    reply: asyncio.Future[VerificationResult]


class VisionService:
    def __init__(
        self, verifier: Verifier, *, queue_size: int = 16, frame_timeout_s: float = 0.5
    ) -> None:
        if queue_size < 1:
            raise ValueError(f"queue size {queue_size} must be at least 1")
        self.verifier = verifier
        self.frame_timeout_s = frame_timeout_s
        self._queue: asyncio.Queue[_Job | None] = asyncio.Queue(maxsize=queue_size)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vision")
        self._task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="vision-service")

    async def stop(self) -> None:
        if self._task is not None:
            await self._queue.put(None)
            await self._task
            self._task = None
        self._executor.shutdown(wait=True)

    async def __aenter__(self) -> VisionService:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def submit(
        self, unit_ref: str, image: npt.NDArray[np.uint8]
    ) -> asyncio.Future[VerificationResult]:
        """Queue a decoded-image frame; raises `BackPressureError` when the queue is full."""
        return self._enqueue(unit_ref, image, None)

    def submit_bytes(
        self, unit_ref: str, data: bytes, width: int, height: int, *, is_png: bool = False
    ) -> asyncio.Future[VerificationResult]:
        """Queue a frame as the camera sent it (mono8 rows or PNG)."""
        return self._enqueue(unit_ref, None, (data, width, height, is_png))

    def _enqueue(
        self,
        unit_ref: str,
        image: npt.NDArray[np.uint8] | None,
        raw: tuple[bytes, int, int, bool] | None,
    ) -> asyncio.Future[VerificationResult]:
        reply: asyncio.Future[VerificationResult] = asyncio.get_running_loop().create_future()
        try:
            self._queue.put_nowait(_Job(unit_ref, image, raw, reply))
        except asyncio.QueueFull:
            raise BackPressureError(
                f"vision queue full ({self._queue.maxsize} frames): unit {unit_ref} not verified"
            ) from None
        return reply

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while (job := await self._queue.get()) is not None:
            work = loop.run_in_executor(self._executor, self._verify, job)
            try:
                result = await asyncio.wait_for(asyncio.shield(work), self.frame_timeout_s)
            except TimeoutError:
                result = _timed_out(job.unit_ref, self.frame_timeout_s)
                with contextlib.suppress(Exception):
                    await work
            if not job.reply.done():
                job.reply.set_result(result)

    def _verify(self, job: _Job) -> VerificationResult:
        try:
            if job.raw is not None:
                data, width, height, is_png = job.raw
                return self.verifier.verify_bytes(job.unit_ref, data, width, height, is_png=is_png)
            assert job.image is not None
            return self.verifier.verify(job.unit_ref, job.image)
        except Exception as error:
            return _rejection(
                job.unit_ref,
                FailureReason.BAD_IMAGE,
                f"verification failed: {type(error).__name__}: {error}",
            )


def _timed_out(unit_ref: str, limit_s: float) -> VerificationResult:
    return _rejection(
        unit_ref, FailureReason.NO_READ, f"verification took longer than {limit_s * 1000:.0f} ms"
    )


def _rejection(unit_ref: str, reason: FailureReason, detail: str) -> VerificationResult:
    """A reject the service decides without a verifier's answer (it failed or came too late)."""
    return VerificationResult(
        unit_ref=unit_ref,
        verdict=Verdict.REJECT,
        reason=reason,
        detail=detail,
        expected=None,
        decoded=None,
        symbology_id=None,
        gs1=False,
        reader=None,
        grade=None,
    )
