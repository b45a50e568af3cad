"""The site file's printers and cameras on OPC UA and Modbus become the right drivers, and the
device check finds a Modbus printer that answers (the OPC UA ones: test_simulate_line_secured)."""

from __future__ import annotations

from pathlib import Path

from config import load_site
from config.devices import PrinterModbusDeviceConfig
from drivers.base import Camera, LinkState, Printer
from drivers.camera.opcua import OpcUaCamera
from drivers.printer.modbus import ModbusPrinter
from drivers.printer.opcua import OpcUaPrinter
from gateway.devices import build_device, check_devices
from gateway.line.testbed import write_demo_site
from simulators.modbus_device.printer import ModbusPrinterSimulator


def test_opcua_and_modbus_devices_become_their_drivers(tmp_path: Path) -> None:
    site = load_site(write_demo_site(tmp_path / "o", secure=True, unit_devices="opcua"))
    devices = {d.id: d for d in site.lines[0].devices}
    printer = build_device(devices["printer-1"], base_dir=site.base_dir)
    camera = build_device(devices["camera-1"], base_dir=site.base_dir)
    assert isinstance(printer, OpcUaPrinter)
    assert isinstance(printer, Printer)
    assert isinstance(camera, OpcUaCamera)
    assert isinstance(camera, Camera)
    assert printer.health().details["security"] == "Basic256Sha256/SignAndEncrypt"
    site = load_site(write_demo_site(tmp_path / "m", unit_devices="modbus"))
    modbus = next(d for d in site.lines[0].devices if d.id == "printer-1")
    printer = build_device(modbus, base_dir=site.base_dir)
    assert isinstance(printer, ModbusPrinter)
    assert printer.health().details["endpoint"].endswith("slave 1")


async def test_the_device_check_sees_a_modbus_printer_up(tmp_path: Path) -> None:
    site = load_site(write_demo_site(tmp_path, unit_devices="modbus"))
    printer = next(d for d in site.lines[0].devices if d.id == "printer-1")
    assert isinstance(printer, PrinterModbusDeviceConfig)
    async with ModbusPrinterSimulator(port=printer.port):
        checks = await check_devices(site, timeout_s=1.0)
    (found,) = [c for c in checks if c.id == "printer-1"]
    assert (found.kind, found.state, found.error) == ("printer-modbus", LinkState.UP, None)
    assert found.latency_s is not None
