"""The `devices` of a line: how the gateway reaches each PLC, printer, camera and scanner.

One entry per device, told apart by `kind` (the transport) and given a `role` on the line.
These models only describe; `gateway.devices` turns them into driver objects (config may not
import drivers). Secrets never live in the file: a password is named by the environment
variable that holds it (`password_env`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Annotated, Final, Literal, Protocol, Self

from pydantic import Field, field_validator, model_validator

from config.fields import Identifier, StrictModel, Text
from config.problems import Finding, InvalidValue, Loc

Role = Literal[
    "line-plc",
    "unit-printer",
    "unit-camera",
    "case-printer",
    "case-camera",
    "pallet-printer",
    "pallet-camera",
    "handheld-scanner",
    "reject-station",
    "checkweigher",
]
MULTI_ROLES: Final = frozenset({"handheld-scanner"})
"""Roles a line may have several devices in; every other role has at most one per line."""

Port = Annotated[int, Field(ge=1, le=65535)]
Seconds = Annotated[float, Field(gt=0, le=3600)]

_ENV_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NODE_ID: Final = re.compile(r"(ns=\d+;)?(i|s|g|b)=.+|nsu=[^;]+;(i|s|g|b)=.+")
_OBJECT_NODE: Final = re.compile(r"(ns=\d+;)?s=[^;]+")


class _Device(StrictModel):
    id: Identifier = Field(description="Unique name of the device on the site, e.g. plc-1.")
    role: Role = Field(
        description="What the device does on the line: line-plc, unit-printer, unit-camera, "
        "case-printer, case-camera, pallet-printer, pallet-camera, handheld-scanner, "
        "reject-station or checkweigher. A line has at most one device per role (handheld "
        "scanners excepted)."
    )


# --- OPC UA ----------------------------------------------------------------------------------


class _OpcUaEndpoint(_Device):
    """How the gateway reaches and logs on to a device's OPC UA server."""

    endpoint: Text = Field(description="opc.tcp://host:port[/path] of the server.")
    security_policy: Literal["None", "Basic256Sha256", "Aes256Sha256RsaPss"] = Field(
        default="None",
        description="None only on a closed network or loopback; otherwise Basic256Sha256 or "
        "Aes256Sha256RsaPss.",
    )
    security_mode: Literal["None", "Sign", "SignAndEncrypt"] = Field(
        default="None", description="None with policy None; Sign or SignAndEncrypt otherwise."
    )
    identity: Literal["anonymous", "username", "certificate"] = Field(
        default="anonymous",
        description="How the gateway logs on: anonymous, username or certificate.",
    )
    username: Text | None = Field(default=None, description="User name, with identity username.")
    password_env: str | None = Field(
        default=None,
        description="NAME of the environment variable holding the password (identity "
        "username); the password itself never goes in this file.",
    )
    client_certificate: Text | None = Field(
        default=None,
        description="Gateway's application certificate (DER or PEM), relative to this file; "
        "required with a security policy.",
    )
    client_private_key: Text | None = Field(
        default=None, description="Private key of client_certificate (PEM), relative to this file."
    )
    trusted_certificates: list[Text] = Field(
        default_factory=list,
        description="Server certificates the gateway trusts, relative to this file; required "
        "with a security policy (a server certificate is never trusted silently).",
    )
    stale_after_s: Seconds = Field(
        default=2.0, description="A subscription silent this long reports its tags stale."
    )
    publishing_interval_ms: float = Field(
        default=100.0,
        ge=1,
        le=60_000,
        description="How often the server sends changes and events. A line PLC's unit "
        "triggers wait up to this long: keep it a small part of the verdict deadline (10 ms).",
    )

    @field_validator("endpoint")
    @classmethod
    def _opc_tcp(cls, value: str) -> str:
        if not value.startswith("opc.tcp://") or len(value) <= len("opc.tcp://"):
            raise InvalidValue(
                f"endpoint {value!r} is not an opc.tcp URL", hint="e.g. opc.tcp://10.0.0.5:4840"
            )
        return value

    @field_validator("password_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.fullmatch(value):
            raise InvalidValue(
                f"{value!r} is not the name of an environment variable",
                hint="give the variable's NAME (e.g. TRACEGATE_PLC_PASSWORD), never the password",
            )
        return value

    @model_validator(mode="after")
    def _coherent_security(self) -> Self:
        secured = self.security_policy != "None"
        if secured != (self.security_mode != "None"):
            raise InvalidValue(
                f"security_mode {self.security_mode} with security_policy {self.security_policy}",
                hint="policy None goes with mode None; a policy needs Sign or SignAndEncrypt",
                field="security_mode",
            )
        if secured and (self.client_certificate is None or self.client_private_key is None):
            raise InvalidValue(
                f"security_policy {self.security_policy} without a client certificate and key",
                hint="set client_certificate and client_private_key",
                field="client_certificate",
            )
        if secured and not self.trusted_certificates:
            raise InvalidValue(
                f"security_policy {self.security_policy} without trusted server certificates",
                hint="list the server's certificate under trusted_certificates",
                field="trusted_certificates",
            )
        self._coherent_identity(secured)
        return self

    def _coherent_identity(self, secured: bool) -> None:
        if self.identity == "username":
            if self.username is None or self.password_env is None:
                raise InvalidValue(
                    "identity username needs username and password_env",
                    hint="set both; password_env names the variable that holds the password",
                    field="username" if self.username is None else "password_env",
                )
            if self.security_mode != "SignAndEncrypt":
                raise InvalidValue(
                    f"identity username over security_mode {self.security_mode}",
                    hint="use SignAndEncrypt so the password never crosses the wire readable",
                    field="security_mode",
                )
        elif self.username is not None or self.password_env is not None:
            raise InvalidValue(
                f"username/password_env given with identity {self.identity}",
                hint="set identity: username, or remove them",
                field="identity",
            )
        if self.identity == "certificate" and not secured:
            raise InvalidValue(
                "identity certificate needs a security policy",
                hint="use Basic256Sha256 or Aes256Sha256RsaPss with a client certificate",
                field="identity",
            )


class OpcUaDeviceConfig(_OpcUaEndpoint):
    """A device reached over OPC UA (usually the line PLC)."""

    kind: Literal["opcua"] = Field(description="opcua: an OPC UA server.")
    tags: dict[str, str] = Field(
        default_factory=dict,
        description="Tag name → NodeId, e.g. unit_trigger: ns=2;s=Line.Trigger. Names ending "
        "in _object or _method name an object or a method the gateway calls (the line PLC's "
        "verdict_object and verdict_method, docs/protocols/line-plc.md), not a value.",
    )

    @field_validator("tags")
    @classmethod
    def _node_ids(cls, value: dict[str, str]) -> dict[str, str]:
        for name, node in value.items():
            if not _NODE_ID.fullmatch(node):
                raise InvalidValue(
                    f"tag {name!r}: {node!r} is not a NodeId",
                    hint="write it as ns=2;s=Line.Trigger or ns=2;i=1001",
                )
        return value


# --- Modbus ----------------------------------------------------------------------------------

ModbusTable = Literal["coil", "discrete_input", "holding", "input"]
ModbusType = Literal[
    "bool", "int16", "uint16", "int32", "uint32", "float32", "float64", "string"
]  # fmt: skip


class ModbusTagConfig(StrictModel):
    """One value in a Modbus device's register map."""

    name: Text = Field(description="Tag name, unique on the device, e.g. gross_weight.")
    slave: int = Field(default=1, ge=1, le=247, description="Slave (unit) id, 1-247.")
    table: ModbusTable = Field(description="coil, discrete_input, holding or input.")
    address: int = Field(ge=0, le=0xFFFF, description="Zero-based register or bit address.")
    type: ModbusType = Field(
        description="bool (coils, discrete inputs), int16, uint16, int32, uint32, float32, "
        "float64 or string."
    )
    length: int = Field(
        default=0, ge=0, le=246, description="Characters of a string tag; only for strings."
    )
    byte_order: Literal["big", "little"] = Field(
        default="big", description="Byte order inside each register."
    )
    word_order: Literal["big", "little"] = Field(
        default="big", description="Order of the registers of a 32/64-bit value."
    )

    @model_validator(mode="after")
    def _fits_table(self) -> ModbusTagConfig:
        bit_table = self.table in ("coil", "discrete_input")
        if bit_table != (self.type == "bool"):
            hint = "use type bool" if bit_table else "bool needs table coil or discrete_input"
            raise InvalidValue(f"type {self.type} in table {self.table}", hint=hint, field="type")
        if (self.type == "string") != (self.length > 0):
            raise InvalidValue(
                "length goes with type string, and only with it",
                hint="set length to the characters the device reserves for a string tag",
                field="length",
            )
        return self


class _ModbusDevice(_Device):
    tags: list[ModbusTagConfig] = Field(
        min_length=1, description="The register map: one entry per tag."
    )
    poll_interval_s: Seconds = Field(default=0.5, description="How often tags are polled.")
    request_timeout_s: Seconds = Field(default=1.0, description="Wait for one answer.")


class ModbusTcpDeviceConfig(_ModbusDevice):
    """A Modbus TCP device (reject station, checkweigher, …)."""

    kind: Literal["modbus-tcp"] = Field(description="modbus-tcp: Modbus over TCP.")
    host: Text = Field(description="IP address or host name.")
    port: Port = Field(default=502, description="TCP port, 502 by default.")


class ModbusRtuDeviceConfig(_ModbusDevice):
    """Modbus RTU slaves on one serial bus."""

    kind: Literal["modbus-rtu"] = Field(description="modbus-rtu: Modbus RTU on a serial port.")
    serial_port: Text = Field(
        description="Serial device, e.g. /dev/ttyUSB0 (a relative path is relative to this file)."
    )
    baudrate: int = Field(default=19200, ge=300, le=921600, description="Bits per second.")
    parity: Literal["N", "E", "O"] = Field(default="E", description="N, E or O.")
    stopbits: Literal[1, 2] = Field(default=1, description="1 or 2.")


# --- printers, cameras, scanners ---------------------------------------------------------------


class _Printer(_Device):
    """What the gateway selects on a coder, whatever carries it."""

    job: Text = Field(description="Message (layout) selected on the printer, e.g. UNIT-GS1.")
    job_fields: list[Text] = Field(
        default_factory=lambda: ["code"],
        min_length=1,
        max_length=9,
        description="Variable fields of the message: the symbol's data first, then one per "
        "human-readable line (at most 9 in all).",
    )
    print_go: bool = Field(
        default=False, description="Fire each print by software (no product-detect sensor)."
    )


class PrinterTcpDeviceConfig(_Printer):
    """A coder driven over the TGP/1 TCP line protocol (docs/protocols/printer.md)."""

    kind: Literal["printer-tcp"] = Field(description="printer-tcp: TGP/1 over TCP.")
    host: Text = Field(description="IP address or host name of the printer.")
    port: Port = Field(default=9100, description="TCP port of the printer.")


def _object_node(value: str, device: str) -> str:
    if not _OBJECT_NODE.fullmatch(value):
        raise InvalidValue(
            f"{value!r} is not a string NodeId",
            hint=f"write it like ns=1;s={device}: the {device.lower()}'s nodes are named below it",
        )
    return value


class PrinterOpcUaDeviceConfig(_OpcUaEndpoint, _Printer):
    """A coder with an OPC UA server (docs/protocols/printer.md, OPC UA)."""

    kind: Literal["printer-opcua"] = Field(description="printer-opcua: the printer over OPC UA.")
    object_node: Text = Field(
        default="ns=1;s=Printer",
        description="NodeId of the printer object; its variables and methods are named below "
        "it (ns=1;s=Printer.Status.Ready, …).",
    )
    poll_interval_s: Seconds = Field(
        default=0.5, description="How often the status is read and the heartbeat written."
    )

    @field_validator("object_node")
    @classmethod
    def _string_node(cls, value: str) -> str:
        return _object_node(value, "Printer")


class PrinterModbusDeviceConfig(_Printer):
    """A coder on Modbus TCP registers (docs/protocols/printer.md, Modbus)."""

    kind: Literal["printer-modbus"] = Field(description="printer-modbus: Modbus TCP registers.")
    host: Text = Field(description="IP address or host name of the printer.")
    port: Port = Field(default=502, description="TCP port, 502 by default.")
    slave: int = Field(default=1, ge=1, le=247, description="Slave (unit) id, 1-247.")
    poll_interval_s: Seconds = Field(
        default=0.05, description="How often the status and report mailbox are read."
    )
    request_timeout_s: Seconds = Field(default=1.0, description="Wait for one answer.")


class CameraTcpDeviceConfig(_Device):
    """A camera sending frames or smart results over the TCP frame stream."""

    kind: Literal["camera-tcp"] = Field(description="camera-tcp: the TCP frame stream.")
    host: Text = Field(description="IP address or host name of the camera.")
    port: Port = Field(description="TCP port of the frame stream.")


class CameraOpcUaDeviceConfig(_OpcUaEndpoint):
    """A camera with an OPC UA server (docs/protocols/camera.md, OPC UA)."""

    kind: Literal["camera-opcua"] = Field(description="camera-opcua: the camera over OPC UA.")
    object_node: Text = Field(
        default="ns=1;s=Camera",
        description="NodeId of the camera object; its variables and methods are named below "
        "it (ns=1;s=Camera.Results.Sequence, …).",
    )

    @field_validator("object_node")
    @classmethod
    def _string_node(cls, value: str) -> str:
        return _object_node(value, "Camera")


class CameraFolderDeviceConfig(_Device):
    """A camera that drops one image file per unit into a folder."""

    kind: Literal["camera-folder"] = Field(description="camera-folder: a watched folder.")
    folder: Text = Field(description="The watched folder, relative to this file.")
    poll_interval_s: Seconds = Field(default=0.1, description="How often the folder is read.")


ScanSuffix = Literal["cr-or-lf", "crlf", "cr", "lf", "tab"]


class ScannerTcpDeviceConfig(_Device):
    """A handheld scanner behind a TCP base station."""

    kind: Literal["scanner-tcp"] = Field(description="scanner-tcp: scans over TCP.")
    host: Text = Field(description="IP address or host name of the base station.")
    port: Port = Field(description="TCP port of the base station.")
    suffix: ScanSuffix = Field(
        default="cr-or-lf", description="What ends a scan: cr-or-lf, crlf, cr, lf or tab."
    )


class ScannerSerialDeviceConfig(_Device):
    """A handheld scanner on a serial port."""

    kind: Literal["scanner-serial"] = Field(description="scanner-serial: scans on a serial port.")
    serial_port: Text = Field(
        description="Serial device, e.g. /dev/ttyACM0 (a relative path is relative to this file)."
    )
    baudrate: int = Field(default=9600, ge=300, le=921600, description="Bits per second.")
    suffix: ScanSuffix = Field(
        default="cr-or-lf", description="What ends a scan: cr-or-lf, crlf, cr, lf or tab."
    )


PrinterDeviceConfig = PrinterTcpDeviceConfig | PrinterOpcUaDeviceConfig | PrinterModbusDeviceConfig
"""A printer of any transport: what a line's printer roles take."""

DeviceConfig = Annotated[
    OpcUaDeviceConfig
    | ModbusTcpDeviceConfig
    | ModbusRtuDeviceConfig
    | PrinterTcpDeviceConfig
    | PrinterOpcUaDeviceConfig
    | PrinterModbusDeviceConfig
    | CameraTcpDeviceConfig
    | CameraOpcUaDeviceConfig
    | CameraFolderDeviceConfig
    | ScannerTcpDeviceConfig
    | ScannerSerialDeviceConfig,
    Field(discriminator="kind"),
]
DEVICE_KINDS: Final = (
    "opcua",
    "modbus-tcp",
    "modbus-rtu",
    "printer-tcp",
    "printer-opcua",
    "printer-modbus",
    "camera-tcp",
    "camera-opcua",
    "camera-folder",
    "scanner-tcp",
    "scanner-serial",
)


# --- cross-checks ----------------------------------------------------------------------------


class LineWithDevices(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def devices(self) -> Sequence[DeviceConfig]: ...


def check_devices(lines: Sequence[LineWithDevices | None]) -> Iterator[Finding]:
    """Unique device ids on the site, one device per single role on a line, unique tag names."""
    first_id: dict[str, str] = {}
    for index, line in enumerate(lines):
        if line is None:
            continue
        first_role: dict[str, str] = {}
        for position, device in enumerate(line.devices):
            loc: Loc = ("lines", index, "devices", position)
            where = f"lines[{index}].devices[{position}]"
            if device.id in first_id:
                yield Finding(
                    (*loc, "id"),
                    f"device id {device.id!r} is used twice",
                    f"first used at {first_id[device.id]}; device ids are unique on the site",
                )
            else:
                first_id[device.id] = where
            if device.role not in MULTI_ROLES:
                if device.role in first_role:
                    yield Finding(
                        (*loc, "role"),
                        f"line {line.id!r} has a second {device.role}",
                        f"{first_role[device.role]} already is its {device.role}; "
                        "a line has one device per role",
                    )
                else:
                    first_role[device.role] = where
            if isinstance(device, ModbusTcpDeviceConfig | ModbusRtuDeviceConfig):
                yield from _unique_tag_names(loc, device.tags)


def _unique_tag_names(loc: Loc, tags: Sequence[ModbusTagConfig]) -> Iterator[Finding]:
    seen: set[str] = set()
    for position, tag in enumerate(tags):
        if tag.name in seen:
            yield Finding(
                (*loc, "tags", position, "name"),
                f"tag name {tag.name!r} is used twice on this device",
                "give every tag of a device its own name",
            )
        seen.add(tag.name)
