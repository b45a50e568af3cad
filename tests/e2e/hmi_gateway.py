"""A simulated line and the HMI served on one event loop in a thread of its own, for the
browser tests that drive it from the test's thread (not a test module)."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from pathlib import Path

from gateway.simulation import LineSimulation
from tests.e2e.line_site import demo_site, open_line_site


class ThreadedGateway:
    """`serve` (a subclass's) opens the line and the HMI, then awaits `served(...)`, which says
    it is up and holds it until `stop`."""

    def __init__(self, tmp_path: Path) -> None:
        self.site = open_line_site(demo_site(tmp_path))
        self.line = self.site.config.lines[0]
        self.camera = next(d.id for d in self.line.devices if d.role == "unit-camera")
        self.url = ""
        self.error: BaseException | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._simulation: LineSimulation | None = None
        self._thread = threading.Thread(target=self._run, name="gateway", daemon=True)

    def start(self) -> None:
        self._thread.start()
        assert self._ready.wait(120), "the gateway did not start within 120 s"
        if self.error is not None:
            raise self.error

    def camera_offline(self, offline: bool) -> None:
        assert self._loop is not None
        simulation = self._simulation
        assert simulation is not None
        self._loop.call_soon_threadsafe(simulation.set_camera_offline, self.camera, offline)

    def stop(self) -> None:
        if self._thread.is_alive() and self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(60)
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        try:
            self.stop()
        finally:
            self.site.store.close()

    async def serve(self) -> None:
        raise NotImplementedError

    async def served(self, simulation: LineSimulation, url: str) -> None:
        self._simulation = simulation
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


def artifact_folder(tmp_path: Path, name: str) -> Path:
    """`hmi/<name>` under TRACEGATE_TEST_ARTIFACTS (else the test's folder), emptied: each
    browser test keeps its screenshots in a folder of its own."""
    root = Path(os.environ.get("TRACEGATE_TEST_ARTIFACTS", tmp_path / "artifacts"))
    folder = root / "hmi" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder
