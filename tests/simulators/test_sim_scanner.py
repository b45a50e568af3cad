"""The scanner simulator on its own: TCP to every client, pseudo-terminal, command line."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import pytest

from drivers.scanner import SerialScanner, TcpScanner
from simulators.scanner import PtyScannerSimulator, TcpScannerSimulator, scan_bytes

ROOT = Path(__file__).resolve().parents[2]


def test_a_scan_is_its_text_and_the_suffix() -> None:
    assert scan_bytes("]d2A\x1dB") == b"]d2A\x1dB\r\n"
    assert scan_bytes("]Q3x", b"\x03") == b"]Q3x\x03"


async def test_every_connected_client_hears_a_scan() -> None:
    async with TcpScannerSimulator() as sim:
        conns = [await asyncio.open_connection("127.0.0.1", sim.port) for _ in range(2)]
        async with asyncio.timeout(5):
            while sim.clients < 2:
                await asyncio.sleep(0.01)
        assert await sim.scan("]C1ABC") == 2
        for reader, writer in conns:
            assert await reader.readline() == b"]C1ABC\r\n"
            writer.close()
            await writer.wait_closed()


def test_a_closed_pty_cannot_scan() -> None:
    with pytest.raises(RuntimeError, match="not open"):
        PtyScannerSimulator().scan("x")


async def test_pty_scan_reaches_a_serial_driver() -> None:
    with PtyScannerSimulator(suffix=b"\x03") as pty:
        async with SerialScanner("s", pty.device, suffix=b"\x03") as scanner:
            await scanner.wait_until_up(5)
            pty.scan("]d2010950110153000321A\x1d10B")
            async with asyncio.timeout(5):
                scan = await anext(scanner.scans())
    assert scan.text == "]d2010950110153000321A\x1d10B"


async def test_command_line_scans_typed_lines_with_gs() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulators.scanner", "--port", "0"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    try:
        line = await asyncio.to_thread(proc.stdout.readline)
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        assert match, line
        async with TcpScanner("s", "127.0.0.1", int(match.group(1))) as scanner:
            await scanner.wait_until_up(5)
            sent = ""
            while "sent to 1" not in sent:
                proc.stdin.write("]d201095011015300032<GS>21SER\n")
                proc.stdin.flush()
                sent = await asyncio.to_thread(proc.stdout.readline)
            async with asyncio.timeout(5):
                scan = await anext(scanner.scans())
        assert scan.text == "]d201095011015300032\x1d21SER"
        proc.stdin.close()
        assert await asyncio.to_thread(proc.wait, 10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        if not proc.stdin.closed:
            proc.stdin.close()
