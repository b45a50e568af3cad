"""A line's `devices`: valid blocks load; each planted mistake is located and explained."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from config import Severity
from config.devices import ModbusTcpDeviceConfig, OpcUaDeviceConfig, PrinterTcpDeviceConfig

DEVICES = """\
    devices:
      - id: plc-1
        kind: opcua
        role: line-plc
        endpoint: opc.tcp://127.0.0.1:48400
        tags:
          unit_trigger: ns=1;s=Line.Conveyor.UnitTrigger
      - id: printer-1
        kind: printer-tcp
        role: unit-printer
        host: 127.0.0.1
        port: 49100
        job: UNIT-GS1
      - id: camera-1
        kind: camera-tcp
        role: unit-camera
        host: 127.0.0.1
        port: 42200
      - id: weigher-1
        kind: modbus-tcp
        role: checkweigher
        host: 127.0.0.1
        tags:
          - {name: weight, table: input, address: 0, type: float32}
          - {name: count, table: input, address: 2, type: uint32}
      - id: scanner-1
        kind: scanner-serial
        role: handheld-scanner
        serial_port: /dev/ttyACM0
"""


@pytest.fixture
def site(base_site: str) -> str:
    return base_site + DEVICES


@dataclass(frozen=True)
class Planted:
    id: str
    old: str
    new: str
    location: str
    marker: str
    message: str
    hint: str | None = None
    occurrence: int = 1


CASES = [
    Planted(
        "unknown-kind",
        "kind: camera-tcp",
        "kind: camera-tpc",
        "lines[0].devices[2].kind",
        "kind: camera-tpc",
        "'camera-tpc' is not one of",
        "did you mean 'camera-tcp'?",
    ),
    Planted(
        "missing-kind",
        "        kind: camera-tcp\n",
        "",
        "lines[0].devices[2].kind",
        "camera-1",
        "required, but missing",
        "opcua",
    ),
    Planted(
        "unknown-role",
        "role: unit-camera",
        "role: unit-camra",
        "lines[0].devices[2].role",
        "unit-camra",
        "is not one of",
        "did you mean 'unit-camera'?",
    ),
    Planted(
        "endpoint-not-opc-tcp",
        "endpoint: opc.tcp://127.0.0.1:48400",
        "endpoint: http://127.0.0.1:48400",
        "lines[0].devices[0].endpoint",
        "endpoint:",
        "is not an opc.tcp URL",
    ),
    Planted(
        "policy-without-mode",
        "        endpoint: opc.tcp://127.0.0.1:48400\n",
        "        endpoint: opc.tcp://127.0.0.1:48400\n        security_policy: Basic256Sha256\n",
        "lines[0].devices[0].security_mode",
        "plc-1",
        "security_mode None with security_policy Basic256Sha256",
    ),
    Planted(
        "password-in-file",
        "        endpoint: opc.tcp://127.0.0.1:48400\n",
        "        endpoint: opc.tcp://127.0.0.1:48400\n        password: secret\n",
        "lines[0].devices[0].password",
        "password: secret",
        "unknown key 'password'",
        "password_env",
    ),
    Planted(
        "password-env-not-a-name",
        "        endpoint: opc.tcp://127.0.0.1:48400\n",
        "        endpoint: opc.tcp://127.0.0.1:48400\n        password_env: s3cr et!\n",
        "lines[0].devices[0].password_env",
        "password_env:",
        "not the name of an environment variable",
        "never the password",
    ),
    Planted(
        "bad-node-id",
        "unit_trigger: ns=1;s=Line.Conveyor.UnitTrigger",
        "unit_trigger: Line.Conveyor.UnitTrigger",
        "lines[0].devices[0].tags",
        "tags:",
        "is not a NodeId",
        "ns=2;s=",
    ),
    Planted(
        "port-out-of-range",
        "port: 49100",
        "port: 91000",
        "lines[0].devices[1].port",
        "port: 91000",
        "must be at most 65535",
    ),
    Planted(
        "port-as-text",
        "port: 49100",
        'port: "49100"',
        "lines[0].devices[1].port",
        'port: "49100"',
        "must be a whole number",
        "without quotes",
    ),
    Planted(
        "printer-without-job",
        "        job: UNIT-GS1\n",
        "",
        "lines[0].devices[1].job",
        "printer-1",
        "required, but missing",
        "Message (layout)",
    ),
    Planted(
        "modbus-float-in-coil",
        "{name: weight, table: input, address: 0, type: float32}",
        "{name: weight, table: coil, address: 0, type: float32}",
        "lines[0].devices[3].tags[0].type",
        "name: weight",
        "type float32 in table coil",
        "use type bool",
    ),
    Planted(
        "modbus-duplicate-tag",
        "{name: count, table: input",
        "{name: weight, table: input",
        "lines[0].devices[3].tags[1].name",
        "address: 2",
        "tag name 'weight' is used twice",
    ),
    Planted(
        "duplicate-device-id",
        "id: scanner-1",
        "id: camera-1",
        "lines[0].devices[4].id",
        "id: camera-1",
        "device id 'camera-1' is used twice",
        "lines[0].devices[2]",
        occurrence=2,
    ),
    Planted(
        "second-unit-camera",
        "role: checkweigher",
        "role: unit-camera",
        "lines[0].devices[3].role",
        "role: unit-camera",
        "second unit-camera",
        "lines[0].devices[2]",
        occurrence=2,
    ),
    Planted(
        "rtu-parity",
        "        serial_port: /dev/ttyACM0\n",
        "        serial_port: /dev/ttyACM0\n        parity: E\n",
        "lines[0].devices[4].parity",
        "parity: E",
        "unknown key 'parity'",
    ),
]


def test_a_valid_devices_block_loads(check, site):
    report = check(site)
    assert report.problems == [], report.lines()
    assert report.config is not None
    devices = report.config.lines[0].devices
    assert [d.kind for d in devices] == [
        "opcua",
        "printer-tcp",
        "camera-tcp",
        "modbus-tcp",
        "scanner-serial",
    ]
    assert isinstance(devices[0], OpcUaDeviceConfig)
    assert devices[0].security_policy == "None"
    assert isinstance(devices[1], PrinterTcpDeviceConfig)
    assert devices[1].job_fields == ["code"]
    assert isinstance(devices[3], ModbusTcpDeviceConfig)
    assert devices[3].port == 502


def test_two_handheld_scanners_on_a_line_are_fine(check, site):
    second = (
        "      - id: scanner-2\n        kind: scanner-tcp\n        role: handheld-scanner\n"
        "        host: 127.0.0.1\n        port: 49200\n"
    )
    report = check(site + second)
    assert report.ok, report.lines()


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_planted_device_error_is_located_and_explained(case, check, site, line_at):
    assert site.count(case.old) == 1, "the case must edit exactly one place"
    text = site.replace(case.old, case.new)
    report = check(text)

    assert report.config is None
    found = [p for p in report.errors if p.location == case.location]
    assert found, f"nothing at {case.location}; got:\n" + "\n".join(report.lines())
    problem = next((p for p in found if case.message in p.message), None)
    assert problem is not None, [p.message for p in found]
    assert problem.severity is Severity.ERROR
    assert problem.line == line_at(text, case.marker, case.occurrence)
    if case.hint is not None:
        assert problem.hint is not None
        assert case.hint in problem.hint


def test_device_ids_are_unique_across_lines(check, site):
    extra = (
        "  - id: line-2\n    name: Line 2\n    products: [p-gs1]\n    devices:\n"
        "      - id: plc-1\n        kind: opcua\n        role: line-plc\n"
        "        endpoint: opc.tcp://127.0.0.1:48401\n"
    )
    report = check(site + extra)
    assert [p.location for p in report.errors] == ["lines[1].devices[0].id"]
    assert "lines[0].devices[0]" in (report.errors[0].hint or "")
