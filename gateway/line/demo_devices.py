"""The demo line's devices on another transport, and its OPC UA secured: site-file text edits.

The shipped demo site (config/examples/demo.yaml) reaches its unit printer and camera over TCP
and its line PLC over OPC UA without security, on loopback. `unit_devices_over` moves the
unit printer and camera to OPC UA (or the printer to Modbus registers) on the same ports;
`secure_opcua` gives every OPC UA device Basic256Sha256 with SignAndEncrypt, the gateway's
client certificate, and trust in exactly the certificate of each device, and makes those
certificates (self-signed, under `pki/` beside the site file) when missing. The simulated
line serves each device with the certificate the site file trusts for it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final, Literal

from drivers.camera.opcua_nodes import NAMESPACE_URI as CAMERA_NAMESPACE
from drivers.printer.opcua_nodes import NAMESPACE_URI as PRINTER_NAMESPACE
from simulators.line_plc.certs import make_self_signed
from simulators.line_plc.server import APPLICATION_URI as PLC_APPLICATION_URI

UnitDevices = Literal["tcp", "opcua", "modbus"]
UNIT_DEVICES: Final = ("tcp", "opcua", "modbus")
CLIENT_CERTIFICATE: Final = "pki/gateway-client.der"
CLIENT_KEY: Final = "pki/gateway-client.key.pem"
CLIENT_URI: Final = "urn:tracegate:gateway"
"""The gateway's default OPC UA application URI (`OpcUaSettings.application_uri`)."""
_INDENT: Final = " " * 8
_DEVICE_ENDPOINT: Final = re.compile(
    r"- id: (?P<id>\S+)\n +kind: (?P<kind>opcua|printer-opcua|camera-opcua)\n"
    r"(?: +(?!- )\S.*\n)*? +endpoint: \S+\n"
)
_SERVER_URIS: Final = {
    "opcua": PLC_APPLICATION_URI,
    "printer-opcua": PRINTER_NAMESPACE,
    "camera-opcua": CAMERA_NAMESPACE,
}


def unit_devices_over(text: str, transport: UnitDevices) -> str:
    """The site text with its unit printer (and, for OPC UA, its unit camera) on `transport`."""
    if transport == "tcp":
        return text
    printer = re.compile(
        r"kind: printer-tcp\n(?P<i> +)role: unit-printer\n +host: (?P<host>\S+)\n"
        r" +port: (?P<port>\d+)\n"
    )
    if transport == "modbus":
        replaced = r"kind: printer-modbus\n\g<i>role: unit-printer\n\g<i>host: \g<host>\n"
        replaced += r"\g<i>port: \g<port>\n"
        return _one(printer, replaced, text)
    opcua = r"\g<i>endpoint: opc.tcp://\g<host>:\g<port>\n\g<i>publishing_interval_ms: 10\n"
    text = _one(printer, r"kind: printer-opcua\n\g<i>role: unit-printer\n" + opcua, text)
    camera = re.compile(
        r"kind: camera-tcp\n(?P<i> +)role: unit-camera\n +host: (?P<host>\S+)\n"
        r" +port: (?P<port>\d+)\n"
    )
    return _one(camera, r"kind: camera-opcua\n\g<i>role: unit-camera\n" + opcua, text)


def secure_opcua(text: str, folder: Path) -> str:
    """The site text with every OPC UA device secured; the certificates made under `folder`."""
    pki = folder / "pki"
    if not (folder / CLIENT_CERTIFICATE).exists() or not (folder / CLIENT_KEY).exists():
        make_self_signed(pki, "gateway-client", application_uri=CLIENT_URI)
    text = re.sub(r"(?m)^ +security_(policy|mode): None *\n", "", text)

    def secured(device: re.Match[str]) -> str:
        _server_certificate(pki, device["id"], device["kind"])
        return device[0] + _security_block(device["id"])

    return _DEVICE_ENDPOINT.sub(secured, text)


def _security_block(device_id: str) -> str:
    return "".join(
        f"{_INDENT}{line}\n"
        for line in (
            "security_policy: Basic256Sha256",
            "security_mode: SignAndEncrypt",
            f"client_certificate: {CLIENT_CERTIFICATE}",
            f"client_private_key: {CLIENT_KEY}",
            f"trusted_certificates: [pki/{device_id}.der]",
        )
    )


def _server_certificate(pki: Path, device_id: str, kind: str) -> None:
    """The device's own certificate and key, as its simulator serves them."""
    if (pki / f"{device_id}.der").exists() and (pki / f"{device_id}.key.pem").exists():
        return
    make_self_signed(pki, device_id, application_uri=_SERVER_URIS[kind])


def _one(pattern: re.Pattern[str], replacement: str, text: str) -> str:
    changed, count = pattern.subn(replacement, text, count=1)
    if count != 1:
        raise ValueError(f"the demo site has no device matching {pattern.pattern!r}")
    return changed
