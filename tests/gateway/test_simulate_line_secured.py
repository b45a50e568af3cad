"""A short simulated line with every OPC UA link secured, as `tracegate demo --secure
--unit-devices opcua` runs it: the line PLC, the unit printer and the unit camera each serve
Basic256Sha256 with SignAndEncrypt only, under the certificate the site file trusts for it, and
the gateway runs a batch of a few units through them."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import load_site
from config.devices import CameraOpcUaDeviceConfig, OpcUaDeviceConfig, PrinterOpcUaDeviceConfig
from drivers.camera.opcua import OpcUaCamera
from drivers.printer.opcua import OpcUaPrinter
from ebr.journal import verify_journal
from gateway.line.devices import open_line_devices
from gateway.line.runtime import LineRuntime
from gateway.line.testbed import write_demo_site
from gateway.simulation import LineSimulation, SimulationError, SimulationOptions
from tests.e2e.line_site import demo_site, open_line_site

UNITS = 6
SECURED = "#Basic256Sha256/SignAndEncrypt"

pytestmark = pytest.mark.timeout(180)


def options() -> SimulationOptions:
    return SimulationOptions(
        rate_upm=600, gate_distance=8, autostart=False, frame_size=(320, 240), seed=5
    )


async def test_a_secured_line_runs_a_batch_over_opc_ua(tmp_path: Path) -> None:
    site = open_line_site(demo_site(tmp_path, secure=True, unit_devices="opcua"))
    line = site.config.lines[0]
    secured = [d for d in line.devices if d.kind in ("opcua", "printer-opcua", "camera-opcua")]
    assert len(secured) == 3
    for device in secured:
        assert isinstance(
            device, OpcUaDeviceConfig | PrinterOpcUaDeviceConfig | CameraOpcUaDeviceConfig
        )
        assert (device.security_policy, device.security_mode) == (
            "Basic256Sha256",
            "SignAndEncrypt",
        )
    try:
        async with (
            LineSimulation(line, base_dir=site.config.base_dir, options=options()) as simulation,
            open_line_devices(line, site.config.base_dir) as devices,
            LineRuntime(site.store, line, site.batch_id, devices) as runtime,
        ):
            assert not simulation.skipped
            assert all("SignAndEncrypt" in d.address for d in simulation.listening if
                       d.kind in ("opcua", "printer-opcua", "camera-opcua"))  # fmt: skip
            assert isinstance(devices.printer, OpcUaPrinter)
            assert isinstance(devices.camera, OpcUaCamera)
            in_use = [
                devices.plc.client.security_in_use,
                devices.printer.security_in_use,
                devices.camera.security_in_use,
            ]
            await runtime.prepare(site.operator)
            await runtime.run_units(UNITS, site.operator, timeout=90)
            report = runtime.report()
            ledger = simulation.ledger()
        verification = verify_journal(site.store.engine, site.batch_id)
    finally:
        site.store.close()

    assert all(security is not None and security.endswith(SECURED) for security in in_use)
    assert report["units"] >= UNITS
    assert report["accepted"] >= 1, report
    assert report["reconciliation_balanced"], report
    assert verification.ok, verification
    printed = [unit for unit in ledger.values() if unit.printed_payload is not None]
    assert len(printed) >= UNITS, "the OPC UA printer printed the units the gateway sent"


async def test_a_trusted_certificate_without_its_key_is_explained(tmp_path: Path) -> None:
    site = load_site(write_demo_site(tmp_path, secure=True))
    (tmp_path / "pki" / "plc-1.key.pem").unlink()
    simulation = LineSimulation(site.lines[0], base_dir=site.base_dir, options=options())
    with pytest.raises(SimulationError) as refused:
        await simulation.start()
    assert "needs the private key of" in refused.value.message
    assert refused.value.hint is not None
    assert "plc-1.key.pem" in refused.value.hint
    assert not simulation.listening or all(d.kind != "opcua" for d in simulation.listening)


def test_the_demo_site_secures_every_opc_ua_device_with_its_own_certificate(
    tmp_path: Path,
) -> None:
    site = load_site(write_demo_site(tmp_path, secure=True, unit_devices="opcua"))
    devices = {d.id: d for d in site.lines[0].devices}
    camera, printer = devices["camera-1"], devices["printer-1"]
    assert isinstance(camera, CameraOpcUaDeviceConfig)
    assert isinstance(printer, PrinterOpcUaDeviceConfig)
    for device in (devices["plc-1"], printer, camera):
        assert isinstance(
            device, OpcUaDeviceConfig | PrinterOpcUaDeviceConfig | CameraOpcUaDeviceConfig
        )
        assert device.trusted_certificates == [f"pki/{device.id}.der"]
        assert (tmp_path / "pki" / f"{device.id}.der").exists()
        assert (tmp_path / "pki" / f"{device.id}.key.pem").exists()
        assert device.client_certificate == "pki/gateway-client.der"
    assert devices["case-printer-1"].kind == "printer-tcp"
