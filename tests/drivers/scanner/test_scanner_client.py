"""Scanner drivers when the device is not there, and their settings."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from drivers.base import DeviceUnavailableError, LinkState
from drivers.scanner import SerialScanner, TcpScanner
from simulators.scanner import TcpScannerSimulator


async def test_a_missing_serial_device_is_down_with_its_name(tmp_path: Path) -> None:
    device = str(tmp_path / "ttyUSB9")
    async with SerialScanner("s", device) as scanner:
        with pytest.raises(DeviceUnavailableError, match=r"is the scanner at .*ttyUSB9 connected"):
            await scanner.wait_until_up(0.3)
        health = scanner.health()
    assert health.state is LinkState.DOWN
    assert health.last_error is not None
    assert "ttyUSB9" in health.last_error
    assert health.details["address"] == device


async def test_a_refused_tcp_connection_is_down_and_retried() -> None:
    async with TcpScannerSimulator() as sim:
        port = sim.port
    async with TcpScanner("s", "127.0.0.1", port) as scanner:
        await asyncio.sleep(0.5)
        health = scanner.health()
        assert health.state is LinkState.DOWN
        assert health.error_count >= 2
        async with TcpScannerSimulator(port=port) as sim:
            await scanner.wait_until_up(5)
            await sim.wait_for_client()
            await sim.scan("]d2X")
            async with asyncio.timeout(5):
                assert (await anext(scanner.scans())).text == "]d2X"


async def test_scans_end_after_close() -> None:
    scanner = TcpScanner("s", "127.0.0.1", 9)
    scanner.start()
    await scanner.close()
    assert [s async for s in scanner.scans()] == []


def test_bad_decoder_settings_fail_at_construction() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        TcpScanner("s", "127.0.0.1", 1, suffix=b"")
