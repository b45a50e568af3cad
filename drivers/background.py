"""The life of a device's one background task, shared by every driver that supervises a link."""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Self

from drivers.base import DeviceUnavailableError


class BackgroundTask:
    """A named task started once and, on `stop`, cancelled and awaited (never left running)."""

    def __init__(self, name: str, run: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._name = name
        self._run = run
        self._task: asyncio.Task[None] | None = None

    @property
    def started(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class AsyncDevice(ABC):
    """`async with device:` starts it and closes it, whatever happens inside."""

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    async def __aenter__(self) -> Self:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


def raise_if_cancelling() -> None:
    """Re-raise a cancellation of the current task that a library turned into an error.

    Protocol clients sometimes report a request cancelled under them as a failed request; a
    loop that handles such errors by trying again would never end.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling() > 0:
        raise asyncio.CancelledError


async def wait_until_set(up: asyncio.Event, timeout: float, *, device: str, hint: str) -> None:
    """Wait for a device's link to come up, or raise `DeviceUnavailableError` with `hint`."""
    try:
        async with asyncio.timeout(timeout):
            await up.wait()
    except TimeoutError:
        raise DeviceUnavailableError(
            f"not connected within {timeout} s", device=device, hint=hint
        ) from None
