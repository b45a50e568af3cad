"""SIGKILL the printer simulator process, bring it back after 2 s and 10 s.

The driver must report the printer DOWN within 2 s of the kill and UP within 5 s of the
simulator listening again, with the job re-selected.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import pytest

from drivers.base import LinkState, PrintItem, PrintOutcome
from drivers.printer import TcpPrinter

ROOT = Path(__file__).resolve().parents[3]


@contextmanager
def simulator_process(port: int) -> Iterator[tuple[subprocess.Popen[str], int]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulators.printer", "--port", str(port), "--job", "u=code,lot"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        assert match, f"simulator did not start: {line!r}"
        yield proc, int(match.group(1))
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()


async def seconds_until(printer: TcpPrinter, state: LinkState, limit: float) -> float:
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with asyncio.timeout(limit):
        while printer.health().state is not state:
            await asyncio.sleep(0.01)
    return loop.time() - start


@asynccontextmanager
async def started(port: int) -> AsyncIterator[tuple[subprocess.Popen[str], int]]:
    context = simulator_process(port)
    entered = await asyncio.to_thread(context.__enter__)
    try:
        yield entered
    finally:
        context.__exit__(None, None, None)


async def kill_and_restart(outage: float) -> tuple[float, float]:
    async with started(0) as (first, port):
        printer = TcpPrinter("line-1-printer", "127.0.0.1", port)
        async with printer:
            await printer.wait_until_up(5)
            await printer.load_job("u", ["code", "lot"])
            first.send_signal(signal.SIGKILL)
            down_after = await seconds_until(printer, LinkState.DOWN, 2.0)
            await asyncio.sleep(outage)
            async with started(port):
                up_after = await seconds_until(printer, LinkState.UP, 5.0)
                status = await printer.status()
                assert status.job == "u"
                await printer.send(PrintItem("U1", "0109501101530003", ("LOT 1",)))
                async with asyncio.timeout(5):
                    report = await anext(printer.reports())
                assert report.outcome is PrintOutcome.PRINTED
    return down_after, up_after


async def test_printer_comes_back_after_a_two_second_outage() -> None:
    down_after, up_after = await kill_and_restart(2.0)
    print(f"down after {down_after:.2f} s, up {up_after:.2f} s after the restart")
    assert down_after < 2.0
    assert up_after < 5.0


@pytest.mark.slow
async def test_printer_comes_back_after_a_ten_second_outage() -> None:
    down_after, up_after = await kill_and_restart(10.0)
    print(f"down after {down_after:.2f} s, up {up_after:.2f} s after the restart")
    assert down_after < 2.0
    assert up_after < 5.0
