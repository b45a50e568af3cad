"""`tracegate simulate line`: the line's simulators together, printer feeding camera."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import zxingcpp

from config import load_site
from config.devices import CameraTcpDeviceConfig, PrinterTcpDeviceConfig
from drivers.base import Frame, LinkState, PixelFormat, PrintItem, PrintOutcome
from drivers.camera.client import TcpCamera
from drivers.camera.folder import FolderCamera
from drivers.printer.client import TcpPrinter
from drivers.scanner.client import SerialScanner
from gateway.devices import check_devices
from gateway.line.testbed import DEMO_PORTS
from gateway.simulation import (
    SMUDGE_RADIUS,
    LineSimulation,
    SimulationError,
    SimulationOptions,
    UnitPhotographer,
)
from simulators.camera.render import RenderTruth, render
from simulators.printer import PrintedUnit, PrintFaults

EXAMPLES = Path(__file__).resolve().parents[2] / "config" / "examples"
PAYLOAD = "01095011015300031727050010AB-123\x1d217Q2XK9PZ4M"
HRI = "(01)09501101530003(17)270500(10)AB-123(21)7Q2XK9PZ4M"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def demo_copy(folder: Path) -> Path:
    text = (EXAMPLES / "demo.yaml").read_text(encoding="utf-8")
    for port in DEMO_PORTS:
        text = re.sub(rf"(?<=[: ]){port}\b", str(free_port()), text)
    site = folder / "site.yaml"
    site.write_text(text, encoding="utf-8")
    return site


def decoded(frame: Frame) -> list[bytes]:
    if frame.pixel_format is PixelFormat.PNG:
        pixels = cv2.imdecode(np.frombuffer(frame.data, np.uint8), cv2.IMREAD_GRAYSCALE)
    else:
        pixels = np.frombuffer(frame.data, np.uint8).reshape(frame.height, frame.width)
    found = zxingcpp.read_barcodes(pixels, formats=zxingcpp.BarcodeFormat.DataMatrix)
    return [barcode.bytes for barcode in found]


async def print_and_photograph(
    printer: TcpPrinter, camera: TcpCamera | FolderCamera, unit_ref: str
) -> tuple[PrintOutcome, Frame]:
    frames = camera.results()
    reports = printer.reports()
    await printer.send(PrintItem(unit_ref, PAYLOAD, (HRI,)))
    async with asyncio.timeout(5):
        report = await anext(reports)
        while True:
            result = await anext(frames)
            if isinstance(result, Frame) and result.unit_ref == unit_ref:
                await frames.aclose()
                return report.outcome, result


async def test_the_camera_sees_exactly_what_the_printer_printed(tmp_path: Path) -> None:
    site = load_site(demo_copy(tmp_path))
    line = site.lines[0]
    printer_cfg = next(d for d in line.devices if d.id == "printer-1")
    camera_cfg = next(d for d in line.devices if d.id == "camera-1")
    assert isinstance(printer_cfg, PrinterTcpDeviceConfig)
    assert isinstance(camera_cfg, CameraTcpDeviceConfig)
    options = SimulationOptions(rate_upm=1200, seed=3)
    async with (
        LineSimulation(line, base_dir=site.base_dir, options=options) as simulation,
        TcpPrinter("printer-1", "127.0.0.1", printer_cfg.port) as printer,
        TcpCamera("camera-1", "127.0.0.1", camera_cfg.port) as camera,
    ):
        await printer.wait_until_up(5)
        await printer.load_job("UNIT-GS1", ["code", "hri"])
        printer_sim = simulation.printers["printer-1"]

        outcome, frame = await print_and_photograph(printer, camera, "U000001")
        assert outcome is PrintOutcome.PRINTED
        assert (frame.width, frame.height) == (640, 480)
        assert decoded(frame) == [PAYLOAD.encode()]
        assert b"\x1d" in decoded(frame)[0]

        printer_sim.print_faults = PrintFaults(wrong_data=1.0)
        _, frame = await print_and_photograph(printer, camera, "U000002")
        printed = printer_sim.printed["U000002"].payload
        assert printed is not None
        assert printed != PAYLOAD
        assert decoded(frame) == [printed.encode()]

        printer_sim.print_faults = PrintFaults(skip=1.0)
        _, frame = await print_and_photograph(printer, camera, "U000003")
        assert printer_sim.printed["U000003"].payload is None
        assert decoded(frame) == []


@pytest.mark.slow
def test_simulate_line_then_devices_check_sees_every_device_up(tmp_path: Path) -> None:
    site = demo_copy(tmp_path)
    command = [sys.executable, "-m", "gateway.cli"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        [*command, "simulate", "line", "--config", str(site), "--duration", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as simulator:
        try:
            assert simulator.stdout is not None
            shown = []
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                row = simulator.stdout.readline()
                if not row or row.startswith("READY"):
                    break
                shown.append(row)
            assert row.startswith("READY"), "".join(shown)
            assert len([r for r in shown if "127.0.0.1" in r]) == 9, shown

            check = subprocess.run(
                [*command, "devices", "check", "--config", str(site), "--timeout", "10"],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        finally:
            simulator.send_signal(signal.SIGINT)
            simulator.communicate(timeout=20)
    assert check.returncode == 0, check.stdout + check.stderr
    rows = check.stdout.splitlines()
    assert len(rows) == 9
    assert all(" UP " in row for row in rows), rows
    assert simulator.returncode == 0


def folder_and_serial_copy(folder: Path) -> Path:
    """The demo line with a folder camera, a Modbus RTU checkweigher and a serial scanner."""
    path = demo_copy(folder)
    text = path.read_text(encoding="utf-8")
    text, cameras = re.subn(
        r"kind: camera-tcp\n        role: unit-camera\n        host: 127.0.0.1\n        port: \d+",
        "kind: camera-folder\n        role: unit-camera\n        folder: frames",
        text,
    )
    text, weighers = re.subn(
        r"kind: modbus-tcp\n        role: checkweigher\n        host: 127.0.0.1\n        port: \d+",
        "kind: modbus-rtu\n        role: checkweigher\n        serial_port: tty/weigher\n"
        "        parity: N",
        text,
    )
    text, scanners = re.subn(
        r"kind: scanner-tcp\n        role: handheld-scanner\n        host: 127.0.0.1\n"
        r"        port: \d+",
        "kind: scanner-serial\n        role: handheld-scanner\n        serial_port: tty/scanner",
        text,
    )
    assert (cameras, weighers, scanners) == (1, 1, 1)
    path.write_text(text, encoding="utf-8")
    return path


async def test_a_folder_camera_gets_one_image_file_per_printed_unit(tmp_path: Path) -> None:
    site = load_site(folder_and_serial_copy(tmp_path))
    line = site.lines[0]
    printer_cfg = next(d for d in line.devices if d.id == "printer-1")
    assert isinstance(printer_cfg, PrinterTcpDeviceConfig)
    options = SimulationOptions(rate_upm=1200, seed=5)
    async with (
        LineSimulation(line, base_dir=site.base_dir, options=options) as simulation,
        TcpPrinter("printer-1", "127.0.0.1", printer_cfg.port) as printer,
        FolderCamera("camera-1", tmp_path / "frames", poll_interval=0.02, settle_s=0.05) as camera,
    ):
        assert [s[0] for s in simulation.skipped] == ["checkweigher-1", "scanner-1"]
        assert "tty does not exist" in simulation.skipped[1][1]
        await printer.wait_until_up(5)
        await printer.load_job("UNIT-GS1", ["code", "hri"])
        outcome, frame = await print_and_photograph(printer, camera, "U000001")

    assert outcome is PrintOutcome.PRINTED
    assert decoded(frame) == [PAYLOAD.encode()]


async def test_a_busy_port_is_refused_with_the_device_named(tmp_path: Path) -> None:
    site = load_site(demo_copy(tmp_path))
    line = site.lines[0]
    camera_cfg = next(d for d in line.devices if d.id == "camera-1")
    assert isinstance(camera_cfg, CameraTcpDeviceConfig)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", camera_cfg.port))
        taken.listen()
        simulation = LineSimulation(line, base_dir=site.base_dir)
        with pytest.raises(SimulationError, match="camera-1: cannot listen") as caught:
            await simulation.start()
    assert "change the device's port" in (caught.value.hint or "")
    assert simulation.listening == []


def test_defects_must_be_a_fraction() -> None:
    with pytest.raises(SimulationError, match="not a fraction"):
        SimulationOptions(defects=1.5)


@pytest.mark.parametrize(
    ("printed", "smudged", "expected"),
    [
        (PAYLOAD, False, (PAYLOAD, 0.0)),
        (PAYLOAD, True, (PAYLOAD, SMUDGE_RADIUS)),
        (PAYLOAD[:-1] + "0", False, (PAYLOAD[:-1] + "0", 0.0)),
        (None, False, (None, 0.0)),
    ],
    ids=["clean", "smudge", "wrong-data", "skip"],
)
def test_the_frame_shows_the_print_as_it_landed(
    monkeypatch: pytest.MonkeyPatch,
    printed: str | None,
    smudged: bool,
    expected: tuple[str | None, float],
) -> None:
    truths: list[RenderTruth] = []

    def recording_render(*args: Any, **kwargs: Any) -> Any:
        image, truth = render(*args, **kwargs)
        truths.append(truth)
        return image, truth

    monkeypatch.setattr("gateway.simulation.render", recording_render)
    photographer = UnitPhotographer(SimulationOptions(seed=1))
    photographer.remember(PrintedUnit("U1", "UNIT-GS1", PAYLOAD, printed, (HRI,), smudged=smudged))
    photographer.frame("U1", printed)

    (truth,) = truths
    assert (truth.printed, truth.defects.smudge) == expected


async def test_serial_devices_are_simulated_on_linked_pseudo_terminals(tmp_path: Path) -> None:
    site = load_site(folder_and_serial_copy(tmp_path))
    (tmp_path / "tty").mkdir()
    async with LineSimulation(site.lines[0], base_dir=site.base_dir) as simulation:
        assert simulation.skipped == []
        assert (tmp_path / "tty" / "scanner").is_symlink()
        checks = await check_devices(site, timeout_s=5.0)
        up = {c.id: c.state for c in checks}
        async with SerialScanner("scanner-1", str(tmp_path / "tty" / "scanner")) as scanner:
            await scanner.wait_until_up(5)
            scans = scanner.scans()
            simulation.serial_scanners["scanner-1"].scan("]d2" + PAYLOAD)
            async with asyncio.timeout(5):
                scan = await anext(scans)

    assert up["checkweigher-1"] is LinkState.UP
    assert up["scanner-1"] is LinkState.UP
    assert scan.text == "]d2" + PAYLOAD
    assert not (tmp_path / "tty" / "scanner").exists()
    assert not (tmp_path / "tty" / "scanner").is_symlink()
