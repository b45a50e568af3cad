"""Reconnect: the camera simulator process is SIGKILLed and restarted on the same port.

The driver must report the camera down within 2 s of the kill and be back up, delivering
frames, within 5 s of the simulator's return.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from drivers.base import LinkState
from drivers.camera.client import TcpCamera


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SimulatorProcess:
    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen[str] | None = None

    async def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "simulators.camera", "--port", str(self.port), "--size",
             "64x48", "--rate", "600"],
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(self.process.stdout.readline), 10)
        assert json.loads(line)["camera"] == f"127.0.0.1:{self.port}"

    def kill(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        assert self.process.stdout is not None
        self.process.stdout.close()
        self.process = None


@pytest.fixture
def simulator() -> Iterator[SimulatorProcess]:
    sim = SimulatorProcess(free_port())
    yield sim
    sim.kill()


async def seconds_until(camera: TcpCamera, state: LinkState, within: float) -> float:
    start = time.monotonic()
    while camera.health().state is not state:
        if time.monotonic() - start > within:
            pytest.fail(f"camera still {camera.health().state} after {within} s, wanted {state}")
        await asyncio.sleep(0.02)
    return time.monotonic() - start


async def next_unit(camera: TcpCamera) -> str:
    results = camera.results()
    try:
        async with asyncio.timeout(3):
            return (await anext(results)).unit_ref
    finally:
        await results.aclose()


async def kill_and_restart(simulator: SimulatorProcess, outage_s: float) -> tuple[float, float]:
    await simulator.start()
    async with TcpCamera("line-cam", "127.0.0.1", simulator.port) as camera:
        await seconds_until(camera, LinkState.UP, 5)
        await next_unit(camera)

        simulator.kill()
        down_after = await seconds_until(camera, LinkState.DOWN, 2.0)
        await asyncio.sleep(outage_s - down_after)
        await simulator.start()
        up_after = await seconds_until(camera, LinkState.UP, 5.0)

        assert await next_unit(camera)
    print(f"outage {outage_s} s: down after {down_after:.2f} s, up {up_after:.2f} s after return")
    return down_after, up_after


async def test_killed_simulator_back_after_2_s(simulator: SimulatorProcess) -> None:
    down_after, up_after = await kill_and_restart(simulator, 2.0)

    assert down_after < 2.0
    assert up_after < 5.0


@pytest.mark.slow
async def test_killed_simulator_back_after_10_s(simulator: SimulatorProcess) -> None:
    down_after, up_after = await kill_and_restart(simulator, 10.0)

    assert down_after < 2.0
    assert up_after < 5.0
