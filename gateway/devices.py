"""The line's devices as driver objects, built from the site file, and a health check of them all.

`config` may not import `drivers`, so the translation from the site file's device models to
driver settings lives here. Every driver starts and stops a little differently; `open_device`
hides that behind one async context manager.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from config import SiteConfig
from config.devices import (
    CameraFolderDeviceConfig,
    CameraOpcUaDeviceConfig,
    CameraTcpDeviceConfig,
    DeviceConfig,
    ModbusRtuDeviceConfig,
    ModbusTcpDeviceConfig,
    OpcUaDeviceConfig,
    PrinterModbusDeviceConfig,
    PrinterOpcUaDeviceConfig,
    PrinterTcpDeviceConfig,
    ScannerSerialDeviceConfig,
    ScannerTcpDeviceConfig,
    ScanSuffix,
)
from drivers.base import (
    Camera,
    DriverError,
    LinkState,
    Printer,
    Scanner,
    TagSource,
    UsageError,
)
from drivers.camera.client import TcpCamera
from drivers.camera.folder import FolderCamera
from drivers.camera.opcua import OpcUaCamera
from drivers.modbus.client import ModbusTagSource
from drivers.modbus.settings import PollSettings, RtuSettings, TcpSettings
from drivers.modbus.tagmap import DataType, Order, Table, Tag
from drivers.opcua.client import OpcUaClient
from drivers.opcua.settings import Identity, OpcUaSettings, SecurityMode, SecurityPolicy
from drivers.printer.client import TcpPrinter
from drivers.printer.modbus import DEFAULT_POLL, ModbusPrinter
from drivers.printer.opcua import OpcUaPrinter
from drivers.scanner.client import SerialScanner, TcpScanner

Device = TagSource | Printer | Camera | Scanner
OpcUaConfig = OpcUaDeviceConfig | PrinterOpcUaDeviceConfig | CameraOpcUaDeviceConfig
_STARTED_BY_START = (
    TcpPrinter,
    OpcUaPrinter,
    ModbusPrinter,
    TcpCamera,
    OpcUaCamera,
    FolderCamera,
    TcpScanner,
    SerialScanner,
)

_SUFFIXES: Mapping[ScanSuffix, bytes | None] = {
    "cr-or-lf": None,
    "crlf": b"\r\n",
    "cr": b"\r",
    "lf": b"\n",
    "tab": b"\t",
}


def build_device(
    device: DeviceConfig,
    *,
    base_dir: Path = Path(),
    environ: Mapping[str, str] | None = None,
) -> Device:
    """The driver object for one configured device (not started).

    Paths in the site file are relative to `base_dir`; `password_env` is looked up in
    `environ` (the process environment by default). Raises `UsageError` when the device
    cannot be built (a password variable that is not set, settings a driver refuses).
    """
    match device:
        case OpcUaDeviceConfig():
            return OpcUaClient(_opcua_settings(device, base_dir, environ or os.environ))
        case ModbusTcpDeviceConfig() | ModbusRtuDeviceConfig():
            return _modbus(device, base_dir)
        case PrinterTcpDeviceConfig():
            return TcpPrinter(device.id, device.host, device.port, print_go=device.print_go)
        case PrinterOpcUaDeviceConfig():
            return OpcUaPrinter(
                _opcua_settings(device, base_dir, environ or os.environ),
                root=device.object_node,
                print_go=device.print_go,
                poll_interval=device.poll_interval_s,
            )
        case PrinterModbusDeviceConfig():
            poll = replace(
                DEFAULT_POLL,
                poll_interval_s=device.poll_interval_s,
                request_timeout_s=device.request_timeout_s,
            )
            return ModbusPrinter(
                device.id,
                TcpSettings(device.host, device.port),
                slave=device.slave,
                print_go=device.print_go,
                poll=poll,
            )
        case CameraTcpDeviceConfig():
            return TcpCamera(device.id, device.host, device.port)
        case CameraOpcUaDeviceConfig():
            settings = _opcua_settings(device, base_dir, environ or os.environ)
            return OpcUaCamera(settings, root=device.object_node)
        case CameraFolderDeviceConfig():
            folder = base_dir / device.folder
            return FolderCamera(device.id, folder, poll_interval=device.poll_interval_s)
        case ScannerTcpDeviceConfig():
            return TcpScanner(device.id, device.host, device.port, suffix=_SUFFIXES[device.suffix])
        case ScannerSerialDeviceConfig():
            return SerialScanner(
                device.id,
                str(base_dir / device.serial_port),
                baudrate=device.baudrate,
                suffix=_SUFFIXES[device.suffix],
            )


def _opcua_settings(
    device: OpcUaConfig, base_dir: Path, environ: Mapping[str, str]
) -> OpcUaSettings:
    password = None
    if device.password_env is not None:
        password = environ.get(device.password_env)
        if password is None:
            raise UsageError(
                f"environment variable {device.password_env} is not set",
                device=device.id,
                hint=f"export {device.password_env} with the OPC UA password before starting",
            )

    def path(name: str | None) -> Path | None:
        return None if name is None else base_dir / name

    return OpcUaSettings(
        name=device.id,
        endpoint=device.endpoint,
        policy=SecurityPolicy(device.security_policy),
        mode=SecurityMode(device.security_mode),
        identity=Identity(device.identity),
        username=device.username,
        password=password,
        client_certificate=path(device.client_certificate),
        client_private_key=path(device.client_private_key),
        trusted_server_certificates=tuple(base_dir / name for name in device.trusted_certificates),
        tags=dict(device.tags) if isinstance(device, OpcUaDeviceConfig) else {},
        stale_after_s=device.stale_after_s,
        publishing_interval_ms=device.publishing_interval_ms,
    )


def _modbus(
    device: ModbusTcpDeviceConfig | ModbusRtuDeviceConfig, base_dir: Path
) -> ModbusTagSource:
    transport: TcpSettings | RtuSettings
    if isinstance(device, ModbusTcpDeviceConfig):
        transport = TcpSettings(device.host, device.port)
    else:
        transport = RtuSettings(
            str(base_dir / device.serial_port),
            baudrate=device.baudrate,
            parity=device.parity,
            stopbits=device.stopbits,
        )
    tags = [
        Tag(
            name=tag.name,
            slave=tag.slave,
            table=Table(tag.table),
            address=tag.address,
            data_type=DataType(tag.type),
            length=tag.length,
            byte_order=Order(tag.byte_order),
            word_order=Order(tag.word_order),
        )
        for tag in device.tags
    ]
    poll = PollSettings(
        request_timeout_s=device.request_timeout_s, poll_interval_s=device.poll_interval_s
    )
    return ModbusTagSource(device.id, transport, tags, poll)


@contextlib.asynccontextmanager
async def open_device(device: Device) -> AsyncIterator[Device]:
    """Start a driver's connection (kept in the background) and close it on exit."""
    if isinstance(device, OpcUaClient):
        await device.open()
    elif isinstance(device, ModbusTagSource):
        await device.start()
    elif isinstance(device, _STARTED_BY_START):
        device.start()
    try:
        yield device
    finally:
        close = getattr(device, "close", None)
        if close is not None:
            await close()


# --- health check ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeviceCheck:
    """One device's answer to `check_devices`."""

    line: str
    id: str
    kind: str
    role: str
    state: LinkState
    detail: str
    latency_s: float | None
    """Seconds from starting the driver until it was UP (and, for a tag source, had read its
    configured tags); None when it never was."""
    error: str | None = None

    @property
    def up(self) -> bool:
        return self.state is LinkState.UP


async def check_devices(
    site: SiteConfig,
    timeout_s: float = 5.0,
    *,
    line_id: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[DeviceCheck]:
    """Connect to every configured device (of one line, or all) at once and report its health."""
    lines = [site.line(line_id)] if line_id is not None else list(site.lines)
    jobs = [
        _check_one(line.id, device, site.base_dir, timeout_s, environ)
        for line in lines
        for device in line.devices
    ]
    return list(await asyncio.gather(*jobs))


async def _check_one(
    line: str,
    config: DeviceConfig,
    base_dir: Path,
    timeout_s: float,
    environ: Mapping[str, str] | None,
) -> DeviceCheck:
    def result(
        state: LinkState, detail: str, latency: float | None, error: str | None
    ) -> DeviceCheck:
        return DeviceCheck(line, config.id, config.kind, config.role, state, detail, latency, error)

    started = time.monotonic()
    try:
        device = build_device(config, base_dir=base_dir, environ=environ)
    except DriverError as error:
        return result(LinkState.DOWN, "not built", None, str(error))
    health = device.health()
    problem: str | None = None
    try:
        async with asyncio.timeout(timeout_s), open_device(device):
            while (health := device.health()).state is not LinkState.UP:
                await asyncio.sleep(0.02)
            problem = await _read_tags(device, config)
            health = device.health()
    except TimeoutError:
        if health.state is LinkState.UP:
            reason = f"connected, but its tags were not read within {timeout_s:g} s"
            return result(LinkState.DEGRADED, _where(config), None, reason)
        reason = health.last_error or f"not up within {timeout_s:g} s"
        return result(LinkState.DOWN, _where(config), None, reason)
    except DriverError as error:
        return result(LinkState.DOWN, _where(config), None, str(error))
    latency = time.monotonic() - started
    if problem is not None:
        return result(LinkState.DEGRADED, _where(config), latency, problem)
    return result(health.state, _where(config), latency, None)


NOT_VALUES = ("_object", "_method")
"""OPC UA tags that name an object or a method the gateway calls, not a value to read."""


async def _read_tags(device: Device, config: DeviceConfig) -> str | None:
    """Read every configured tag once; a tag the device does not answer is a problem."""
    names: Sequence[str] = ()
    if isinstance(config, OpcUaDeviceConfig):
        names = [name for name in config.tags if not name.endswith(NOT_VALUES)]
    elif isinstance(config, ModbusTcpDeviceConfig | ModbusRtuDeviceConfig):
        names = [tag.name for tag in config.tags]
    if not names or not isinstance(device, OpcUaClient | ModbusTagSource):
        return None
    try:
        values = await device.read(names)
    except DriverError as error:
        return f"reading its tags failed: {error}"
    bad = sorted(name for name, value in values.items() if value.quality.value != "good")
    return f"tags without a good value: {', '.join(bad)}" if bad else None


def _where(config: DeviceConfig) -> str:
    match config:
        case OpcUaDeviceConfig() | PrinterOpcUaDeviceConfig() | CameraOpcUaDeviceConfig():
            return f"{config.endpoint} ({config.security_policy}/{config.security_mode})"
        case ModbusRtuDeviceConfig() | ScannerSerialDeviceConfig():
            return f"{config.serial_port}@{config.baudrate}"
        case CameraFolderDeviceConfig():
            return config.folder
        case _:
            return f"{config.host}:{config.port}"
