"""A simulated line and the HMI served on one event loop in a thread of its own, for the
browser tests that drive it from the test's thread (not a test module)."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

from gateway.simulation import LineSimulation
from tests.e2e.line_site import demo_site, open_line_site


class ThreadedServer:
    """`serve` (a subclass's) opens what the test needs, then awaits `served(url)`, which says it
    is up and holds it until `stop`. Errors on the loop are raised in the test's thread."""

    START_TIMEOUT_S = 120.0

    def __init__(self) -> None:
        self.url = ""
        self.error: BaseException | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="gateway", daemon=True)

    def start(self) -> None:
        self._thread.start()
        ready = self._ready.wait(self.START_TIMEOUT_S)
        assert ready, f"the gateway did not start within {self.START_TIMEOUT_S:g} s"
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        if self._thread.is_alive() and self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(60)
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        self.stop()

    async def serve(self) -> None:
        raise NotImplementedError

    async def served(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._ready.set()
        assert self._stop is not None
        await self._stop.wait()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:  # reported to the test thread
            self.error = error
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        await self.serve()


class ThreadedGateway(ThreadedServer):
    """The demo line's site and its simulated line: `serve` awaits `served_line(...)`."""

    def __init__(self, tmp_path: Path) -> None:
        super().__init__()
        self.site = open_line_site(demo_site(tmp_path))
        self.line = self.site.config.lines[0]
        self.camera = next(d.id for d in self.line.devices if d.role == "unit-camera")
        self._simulation: LineSimulation | None = None

    def camera_offline(self, offline: bool) -> None:
        assert self._loop is not None
        simulation = self._simulation
        assert simulation is not None
        self._loop.call_soon_threadsafe(simulation.set_camera_offline, self.camera, offline)

    def close(self) -> None:
        try:
            self.stop()
        finally:
            self.site.store.close()

    async def served_line(self, simulation: LineSimulation, url: str) -> None:
        self._simulation = simulation
        await self.served(url)


S = TypeVar("S", bound=ThreadedServer)


def running(server: S) -> Iterator[S]:
    """A fixture's body: `server` started, yielded, and closed (also when it did not start)."""
    try:
        server.start()
        yield server
    finally:
        server.close()


def artifact_folder(tmp_path: Path, name: str) -> Path:
    """`hmi/<name>` under TRACEGATE_TEST_ARTIFACTS (else the test's folder), emptied: each
    browser test keeps its screenshots in a folder of its own."""
    root = Path(os.environ.get("TRACEGATE_TEST_ARTIFACTS", tmp_path / "artifacts"))
    folder = root / "hmi" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder
