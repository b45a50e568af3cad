"""SIGKILL the OPC UA printer simulator process, bring it back after 2 s.

The printer is served Basic256Sha256/SignAndEncrypt only. The driver must report the printer
DOWN within 2 s of the kill and UP within 5 s of the simulator listening again, with the same
security, the job re-selected and the report subscription working (a unit sent after the
return is confirmed PRINTED). The 10 s outage is covered once, for the OPC UA client these
drivers share, by tests/contract/test_contract_opcua.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

from drivers.base import LinkState, PrintItem, PrintOutcome
from drivers.opcua.settings import OpcUaSettings, SecurityMode, SecurityPolicy
from drivers.printer.opcua import OpcUaPrinter
from simulators.line_plc.certs import make_self_signed
from simulators.ports import free_port

ROOT = Path(__file__).resolve().parents[3]
SECURED = "#Basic256Sha256/SignAndEncrypt"
OUTAGE_S = 2.0


@contextlib.asynccontextmanager
async def printer_process(port: int, cert_dir: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """`python -m simulators.opcua_device` with a secured printer, until it prints READY."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simulators.opcua_device", "--printer-port", str(port),
        "--job", "u=code,lot", "--security", "Basic256Sha256_SignAndEncrypt",
        "--cert-dir", str(cert_dir),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        async with asyncio.timeout(60):
            line = await process.stdout.readline()
        assert line.startswith(b"READY "), f"simulator did not start: {line!r}"
        yield process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGKILL)
        await process.wait()


async def seconds_until(printer: OpcUaPrinter, state: LinkState, limit: float) -> float:
    started = time.monotonic()
    async with asyncio.timeout(limit):
        while printer.health().state is not state:
            await asyncio.sleep(0.01)
    return time.monotonic() - started


async def printed(printer: OpcUaPrinter, unit_ref: str) -> None:
    await printer.send(PrintItem(unit_ref, "0109501101530003\x1d21S1", ("LOT 1",)))
    async with asyncio.timeout(5):
        report = await anext(printer.reports())
    assert (report.unit_ref, report.outcome) == (unit_ref, PrintOutcome.PRINTED)


async def test_opcua_printer_comes_back_secured_after_a_kill(tmp_path: Path) -> None:
    port = free_port()
    server_dir = tmp_path / "server"
    server_dir.mkdir()
    client = make_self_signed(tmp_path / "client", "client", application_uri="urn:tracegate:gw")
    settings = OpcUaSettings(
        name="printer-1",
        endpoint=f"opc.tcp://127.0.0.1:{port}",
        policy=SecurityPolicy.BASIC256SHA256,
        mode=SecurityMode.SIGN_AND_ENCRYPT,
        client_certificate=client.certificate,
        client_private_key=client.private_key,
        trusted_server_certificates=(server_dir / "printer.der",),
        application_uri="urn:tracegate:gw",
        publishing_interval_ms=20,
        stale_after_s=1.0,
        request_timeout_s=1.0,
    )
    async with printer_process(port, server_dir) as first:
        printer = OpcUaPrinter(settings)
        async with printer:
            await printer.wait_until_up(10)
            security = printer.security_in_use
            assert security is not None
            assert security.endswith(SECURED)
            await printer.load_job("u", ["code", "lot"])
            await printed(printer, "U1")

            first.send_signal(signal.SIGKILL)
            down_after = await seconds_until(printer, LinkState.DOWN, 2.0)
            await asyncio.sleep(OUTAGE_S)
            async with printer_process(port, server_dir):
                back_after = await seconds_until(printer, LinkState.UP, 5.0)
                assert printer.security_in_use == security
                assert (await printer.status()).job == "u"
                await printed(printer, "U2")
    print(f"down after {down_after:.2f} s, up {back_after:.2f} s after the restart")
    assert down_after < 2.0
    assert back_after < 5.0
