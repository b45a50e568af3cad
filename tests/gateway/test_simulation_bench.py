"""The simulated line as a test bench: fail-safe gate, ledger, fault hooks, no autostart, CLI.

A minimal runtime drives it over the real protocols: "trigger <ref>" events from the PLC's OPC
UA server, the code sent to the printer over TCP, the camera's frame verified, the verdict set
with SetVerdict. The ledger then says what really happened to each unit.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import TypeVar

from config import load_site
from config.devices import CameraTcpDeviceConfig, OpcUaDeviceConfig, PrinterTcpDeviceConfig
from drivers.base import Frame, LinkState, PrintItem
from drivers.camera.client import TcpCamera
from drivers.camera.vision import Verifier
from drivers.opcua import OpcUaClient, OpcUaSettings
from drivers.printer.client import TcpPrinter
from gateway.line.testbed import on_free_ports
from gateway.simulation import CameraFault, LineSimulation, SimulationOptions
from serialization.codes import SchemeName
from serialization.coding import CodeFactory
from serialization.rules import Carrier, CodingRule, LotData, ProductMaster
from simulators.line_plc.line import GateOutcome
from simulators.line_plc.packml import State
from simulators.line_plc.server import plc_node_id

T = TypeVar("T")
EXAMPLES = Path(__file__).resolve().parents[2] / "config" / "examples"
RULE = CodingRule(
    "unit", SchemeName.GS1, Carrier.DATAMATRIX, None, gs1_ais=("01", "17", "10", "21")
)
PRODUCT = ProductMaster("p1", "Product", gtin="09501101530003")
LOT = LotData("AB-123", expiry=date(2027, 5, 31))
SSCC = "00195011010000000015"


def site_copy(folder: Path, *, case_level: bool = False) -> Path:
    text = on_free_ports((EXAMPLES / "demo.yaml").read_text(encoding="utf-8"))
    if not case_level:
        start = text.index("      # The case label (SSCC)")
        text = text[:start] + text[text.index("      - id: checkweigher-1\n") :]
    site = folder / "site.yaml"
    site.write_text(text, encoding="utf-8")
    return site


def device(simulation: LineSimulation, device_id: str, kind: type[T]) -> T:
    found = next(d for d in simulation.line.devices if d.id == device_id)
    assert isinstance(found, kind)
    return found


async def test_a_minimal_runtime_rejects_exactly_the_defective_units(tmp_path: Path) -> None:
    site = load_site(site_copy(tmp_path))
    options = SimulationOptions(
        rate_upm=300, print_defects=0.3, camera_faults=0.2, gate_distance=10, seed=4,
        autostart=False,
    )  # fmt: skip
    factory = CodeFactory(RULE, PRODUCT, LOT)
    verifier = Verifier(RULE, PRODUCT, LOT)
    async with LineSimulation(site.lines[0], base_dir=site.base_dir, options=options) as sim:
        plc_cfg = device(sim, "plc-1", OpcUaDeviceConfig)
        printer_cfg = device(sim, "printer-1", PrinterTcpDeviceConfig)
        camera_cfg = device(sim, "camera-1", CameraTcpDeviceConfig)
        settings = OpcUaSettings(name="plc-1", endpoint=plc_cfg.endpoint, publishing_interval_ms=20)
        async with (
            OpcUaClient(settings) as plc,
            TcpPrinter("printer-1", "127.0.0.1", printer_cfg.port) as printer,
            TcpCamera("camera-1", "127.0.0.1", camera_cfg.port) as camera,
        ):
            await plc.wait_up(5)
            await printer.wait_until_up(5)
            await printer.load_job("UNIT-GS1", ["code", "hri"])
            await asyncio.sleep(0.5)
            assert sim.plc is not None
            assert sim.plc.machine.state is State.STOPPED, "no autostart: the gateway starts it"

            async def verify_frames() -> None:
                async for result in camera.results():
                    if isinstance(result, Frame):
                        verdict = verifier.verify_bytes(
                            result.unit_ref, result.data, result.width, result.height
                        )
                        await plc.call(
                            plc_node_id("Conveyor"),
                            "SetVerdict",
                            [int(result.unit_ref), verdict.accepted],
                        )

            verifying = asyncio.create_task(verify_frames())
            sent: set[str] = set()
            events = plc.events()
            first = asyncio.ensure_future(anext(events))
            await asyncio.sleep(0.3)
            await plc.call(plc_node_id("PackML"), "Reset")
            await first
            async with asyncio.timeout(30):
                async for event in events:
                    word, _, number = event.message.partition(" ")
                    if event.message == "state Idle" and sim.plc.machine.state is State.IDLE:  # type: ignore[union-attr]
                        await plc.call(plc_node_id("PackML"), "Start")
                    elif word == "trigger" and number not in sent:
                        sent.add(number)
                        code = factory.issue(f"B{int(number):06d}")
                        verifier.assign(number, code)
                        await printer.send(PrintItem(number, code.data, (code.hri,)))
                    elif word == "reject" and int(number) >= 40:
                        break
            await events.aclose()  # type: ignore[attr-defined]
            verifying.cancel()
            ledger = sim.ledger()

    decided = [r for r in ledger.values() if r.gate is not None]
    assert len(decided) >= 40
    assert any(r.print_defect for r in decided)
    assert any(r.camera_fault for r in decided)
    for record in decided:
        expected = GateOutcome.REJECTED if sim.defective(record.unit_ref) else GateOutcome.PASSED
        assert record.gate is expected, record
        assert record.sent_payload is not None
    lost = [r for r in decided if r.camera_fault is CameraFault.LOST_TRIGGER]
    assert all(r.gate is GateOutcome.REJECTED for r in lost), "no frame, no verdict: fail-safe"
    ledger_file = tmp_path / "ledger.json"
    sim.write_ledger(ledger_file)
    assert json.loads(ledger_file.read_text())["1"]["unit_ref"] == "1"


async def test_fault_hooks_printer_reconnects_and_camera_goes_offline(tmp_path: Path) -> None:
    site = load_site(site_copy(tmp_path))
    async with LineSimulation(site.lines[0], base_dir=site.base_dir) as sim:
        printer_cfg = device(sim, "printer-1", PrinterTcpDeviceConfig)
        camera_cfg = device(sim, "camera-1", CameraTcpDeviceConfig)
        async with (
            TcpPrinter("printer-1", "127.0.0.1", printer_cfg.port) as printer,
            TcpCamera("camera-1", "127.0.0.1", camera_cfg.port) as camera,
        ):
            await printer.wait_until_up(5)
            assert await sim.disconnect_printer("printer-1") == 1
            async with asyncio.timeout(10):
                while printer.health().state is LinkState.UP:
                    await asyncio.sleep(0.01)
            await printer.wait_until_up(10)
            await printer.load_job("UNIT-GS1", ["code", "hri"])
            reports = printer.reports()
            await printer.send(PrintItem("U1", "0109501101530003\x1d21X1", ("x",)))
            async with asyncio.timeout(5):
                await anext(reports)

            async with asyncio.timeout(5):
                while camera.health().state is not LinkState.UP:
                    await asyncio.sleep(0.02)
            sim.set_camera_offline("camera-1", True)
            async with asyncio.timeout(5):
                while camera.health().state is LinkState.UP:
                    await asyncio.sleep(0.02)
            await printer.send(PrintItem("U2", "0109501101530003\x1d21X2", ("x",)))
            async with asyncio.timeout(5):
                await anext(reports)
            assert sim.ledger()["U2"].camera_fault is CameraFault.OFFLINE
            assert sim.defective("U2")
            sim.set_camera_offline("camera-1", False)
            async with asyncio.timeout(10):
                while camera.health().state is not LinkState.UP:
                    await asyncio.sleep(0.05)


async def test_the_case_camera_reads_the_sscc_the_case_printer_printed(tmp_path: Path) -> None:
    import numpy as np
    import zxingcpp

    site = load_site(site_copy(tmp_path, case_level=True))
    async with LineSimulation(site.lines[0], base_dir=site.base_dir) as sim:
        printer_cfg = device(sim, "case-printer-1", PrinterTcpDeviceConfig)
        camera_cfg = device(sim, "case-camera-1", CameraTcpDeviceConfig)
        async with (
            TcpPrinter("case-printer-1", "127.0.0.1", printer_cfg.port) as printer,
            TcpCamera("case-camera-1", "127.0.0.1", camera_cfg.port) as camera,
        ):
            await printer.wait_until_up(5)
            await printer.load_job("CASE-SSCC", ["code", "hri"])
            frames = camera.results()
            await asyncio.sleep(0.3)
            await printer.send(PrintItem("C1", SSCC, ("(00)" + SSCC[2:],)))
            async with asyncio.timeout(5):
                frame = await anext(frames)
                while not isinstance(frame, Frame):
                    frame = await anext(frames)
    pixels = np.frombuffer(frame.data, np.uint8).reshape(frame.height, frame.width)
    (found,) = zxingcpp.read_barcodes(pixels, formats=zxingcpp.BarcodeFormat.DataMatrix)
    assert found.bytes == SSCC.encode()
    assert found.symbology_identifier == "]d2", "drawn as GS1 DataMatrix, not GS1-128"
    assert sim.ledger("case")["C1"].printed_payload == SSCC


def test_the_cli_runs_without_autostart_and_writes_the_ledger(tmp_path: Path) -> None:
    site = site_copy(tmp_path)
    ledger = tmp_path / "ledger.json"
    run = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "simulate", "line", "--config", str(site),
         "--duration", "2", "--no-autostart", "--print-defects", "0.1", "--camera-faults", "0.1",
         "--gate-distance", "6", "--ledger", str(ledger)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert json.loads(ledger.read_text()) == {}, "not started: no unit was triggered"
    bad = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "simulate", "line", "--config", str(site),
         "--camera-faults", "2"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert bad.returncode == 1
    assert "camera_faults 2.0 is not a fraction" in bad.stdout + bad.stderr
