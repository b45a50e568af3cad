"""Printers and cameras on OPC UA and Modbus registers in a line's `devices`: valid blocks load
with their defaults; a mistake is located and explained, the OPC UA security rules included."""

from __future__ import annotations

from config.devices import (
    DEVICE_KINDS,
    CameraOpcUaDeviceConfig,
    PrinterModbusDeviceConfig,
    PrinterOpcUaDeviceConfig,
)

DEVICES = """\
    devices:
      - id: printer-1
        kind: printer-opcua
        role: unit-printer
        endpoint: opc.tcp://127.0.0.1:4841
        job: UNIT-GS1
        job_fields: [code, hri]
      - id: camera-1
        kind: camera-opcua
        role: unit-camera
        endpoint: opc.tcp://127.0.0.1:4842
      - id: case-printer-1
        kind: printer-modbus
        role: case-printer
        host: 10.0.0.7
        job: CASE-SSCC
"""


def test_the_new_kinds_load_with_their_defaults(check, base_site):
    report = check(base_site + DEVICES)
    assert report.problems == [], report.lines()
    assert report.config is not None
    printer, camera, case_printer = report.config.lines[0].devices
    assert isinstance(printer, PrinterOpcUaDeviceConfig)
    assert (printer.object_node, printer.poll_interval_s) == ("ns=1;s=Printer", 0.5)
    assert (printer.security_policy, printer.job_fields) == ("None", ["code", "hri"])
    assert isinstance(camera, CameraOpcUaDeviceConfig)
    assert camera.object_node == "ns=1;s=Camera"
    assert isinstance(case_printer, PrinterModbusDeviceConfig)
    assert (case_printer.port, case_printer.slave, case_printer.job_fields) == (502, 1, ["code"])
    assert {"printer-opcua", "printer-modbus", "camera-opcua"} <= set(DEVICE_KINDS)


def test_a_secured_printer_needs_its_trust_list(check, base_site):
    text = (base_site + DEVICES).replace(
        "        endpoint: opc.tcp://127.0.0.1:4841\n",
        "        endpoint: opc.tcp://127.0.0.1:4841\n"
        "        security_policy: Basic256Sha256\n"
        "        security_mode: SignAndEncrypt\n"
        "        client_certificate: pki/gw.der\n"
        "        client_private_key: pki/gw.key.pem\n",
    )
    report = check(text)
    (problem,) = report.problems
    assert problem.location == "lines[0].devices[0].trusted_certificates"
    assert "without trusted server certificates" in problem.message
    assert problem.hint is not None


def test_an_object_node_that_is_not_a_string_node_id_is_explained(check, base_site):
    text = (base_site + DEVICES).replace(
        "        endpoint: opc.tcp://127.0.0.1:4842\n",
        "        endpoint: opc.tcp://127.0.0.1:4842\n        object_node: ns=1;i=5001\n",
    )
    report = check(text)
    (problem,) = report.problems
    assert problem.location == "lines[0].devices[1].object_node"
    assert "is not a string NodeId" in problem.message
    assert problem.hint is not None
    assert "ns=1;s=Camera" in problem.hint


def test_a_message_has_at_most_nine_fields_and_modbus_has_no_endpoint(check, base_site):
    text = (base_site + DEVICES).replace(
        "job_fields: [code, hri]", "job_fields: [a, b, c, d, e, f, g, h, i, j]"
    )
    report = check(text.replace("        host: 10.0.0.7\n", "        endpoint: opc.tcp://x:1\n"))
    locations = {p.location for p in report.problems}
    assert "lines[0].devices[0].job_fields" in locations
    assert "lines[0].devices[2].endpoint" in locations
    assert "lines[0].devices[2].host" in locations
