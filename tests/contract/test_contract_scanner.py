"""The scanner contract: `drivers.base.Scanner` over TCP and over a serial pseudo-terminal.

The same assertions for both transports: scans arrive in order and byte for byte (AIM
symbology identifier and GS separators included), garbage is counted and skipped, a lost link is
DOWN within 2 s and UP again within 5 s of the scanner's return.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

import pytest

from drivers.base import LinkState, ScanEvent, Scanner
from drivers.scanner import SerialScanner, TcpScanner
from simulators.faults import Faults
from simulators.scanner import PtyScannerSimulator, TcpScannerSimulator

GS = "\x1d"
SCANS = [
    f"]d20109501101530003{GS}17270501{GS}10AB-1{GS}21SER001",
    f"]C1000950110153000000001{GS}",
    "]Q3https://id.gs1.org/01/09501101530003/21/SER001",
    "]d281234567890123456789",
]


class Transport(Protocol):
    driver: TcpScanner | SerialScanner

    async def scan(self, text: str) -> None: ...
    async def send_raw(self, data: bytes) -> None: ...
    async def unplug(self) -> None: ...
    async def replug(self) -> None: ...
    async def close(self) -> None: ...


class TcpTransport:
    driver: TcpScanner | SerialScanner

    def __init__(self, faults: Faults | None = None) -> None:
        self.sim = TcpScannerSimulator()
        if faults is not None:
            self.sim.injector.faults = faults

    async def start(self) -> None:
        await self.sim.start()
        self.driver = TcpScanner("scanner-1", "127.0.0.1", self.sim.port)
        self.driver.start()
        await self.sim.wait_for_client()

    async def scan(self, text: str) -> None:
        assert await self.sim.scan(text) == 1

    async def send_raw(self, data: bytes) -> None:
        await self.sim.send_raw(data)

    async def unplug(self) -> None:
        await self.sim.close()

    async def replug(self) -> None:
        faults = self.sim.injector.faults
        self.sim = TcpScannerSimulator(port=self.sim.port)
        self.sim.injector.faults = faults
        await self.sim.start()
        await self.sim.wait_for_client()

    async def close(self) -> None:
        await self.driver.close()
        await self.sim.close()


class SerialTransport:
    """A pseudo-terminal behind a stable symlink, as udev gives /dev/serial/by-id/… names."""

    driver: TcpScanner | SerialScanner

    def __init__(self, link: Path) -> None:
        self.link = link
        self.pty = PtyScannerSimulator()

    async def start(self) -> None:
        self._plug()
        self.driver = SerialScanner("scanner-1", str(self.link), baudrate=115200)
        self.driver.start()
        await self.driver.wait_until_up(5)

    def _plug(self) -> None:
        self.pty.open()
        self.link.unlink(missing_ok=True)
        os.symlink(self.pty.device, self.link)

    async def scan(self, text: str) -> None:
        self.pty.scan(text)

    async def send_raw(self, data: bytes) -> None:
        self.pty.send_raw(data)

    async def unplug(self) -> None:
        self.pty.close()
        self.link.unlink()

    async def replug(self) -> None:
        self.pty = PtyScannerSimulator()
        self._plug()

    async def close(self) -> None:
        await self.driver.close()
        self.pty.close()


@pytest.fixture(params=["tcp", "tcp-split", "serial"])
async def transport(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Transport]:
    made: TcpTransport | SerialTransport
    if request.param == "serial":
        made = SerialTransport(tmp_path / "scanner-by-id")
    else:
        faults = Faults(split_rate=1.0, split_pause=0.01) if request.param == "tcp-split" else None
        made = TcpTransport(faults)
    await made.start()
    try:
        yield made
    finally:
        await made.close()


async def next_scans(transport: Transport, count: int) -> list[ScanEvent]:
    stream = transport.driver.scans()
    async with asyncio.timeout(5):
        return [await anext(stream) for _ in range(count)]


async def seconds_until(transport: Transport, state: LinkState, limit: float) -> float:
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with asyncio.timeout(limit):
        while transport.driver.health().state is not state:
            await asyncio.sleep(0.01)
    return loop.time() - start


async def test_scanner_satisfies_the_protocol(transport: Transport) -> None:
    assert isinstance(transport.driver, Scanner)
    health = transport.driver.health()
    assert health.state is LinkState.UP
    assert health.kind == "scanner"


async def test_scans_arrive_in_order_byte_for_byte(transport: Transport) -> None:
    for text in SCANS:
        await transport.scan(text)
    received = await next_scans(transport, len(SCANS))
    assert [s.text for s in received] == SCANS
    assert [s.text.encode() for s in received] == [t.encode() for t in SCANS]
    assert all(s.received_at.tzinfo is not None for s in received)
    assert transport.driver.health().last_good_value_age_s is not None


async def test_garbage_is_counted_and_the_next_scan_still_arrives(transport: Transport) -> None:
    await transport.send_raw(b"\x00\x07\xff\r\n" + b"Z" * 5000 + b"\r\n")
    await transport.scan(SCANS[0])
    (scan,) = await next_scans(transport, 1)
    assert scan.text == SCANS[0]
    health = transport.driver.health()
    assert health.error_count >= 2
    assert health.last_error is not None
    assert "scanner sent garbage" in health.last_error
    assert health.state is LinkState.UP


async def test_a_lost_scanner_is_down_quickly_and_back_when_it_returns(
    transport: Transport,
) -> None:
    await transport.unplug()
    assert await seconds_until(transport, LinkState.DOWN, 2.0) < 2.0
    await transport.replug()
    assert await seconds_until(transport, LinkState.UP, 5.0) < 5.0
    await transport.scan(SCANS[2])
    (scan,) = await next_scans(transport, 1)
    assert scan.text == SCANS[2]
