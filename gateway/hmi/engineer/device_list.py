"""Every configured device with its health: live from the running line's devices when it has
them, else from the newest on-demand check (`gateway.devices.check_devices`, as
`tracegate devices check` does)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from config import SiteConfig
from config.devices import (
    CameraFolderDeviceConfig,
    CameraOpcUaDeviceConfig,
    DeviceConfig,
    ModbusRtuDeviceConfig,
    OpcUaDeviceConfig,
    PrinterOpcUaDeviceConfig,
    ScannerSerialDeviceConfig,
)
from gateway.devices import DeviceCheck
from gateway.observability.devices import LineDeviceHealth


@dataclass(frozen=True, slots=True)
class Probe:
    at: datetime
    checks: tuple[DeviceCheck, ...]


@dataclass(frozen=True, slots=True)
class DeviceRow:
    line: str
    id: str
    kind: str
    role: str
    address: str
    state: str | None
    """up, connecting, degraded or down; None when never checked."""
    since: datetime | None
    last_error: str | None
    source: str
    """live (the running line's driver), check (the newest check) or none."""

    @property
    def abnormal(self) -> bool:
        return self.state in ("down", "degraded")


def device_rows(
    site: SiteConfig, live: Sequence[LineDeviceHealth], probe: Probe | None
) -> list[DeviceRow]:
    by_live = {(entry.line, entry.health.name): entry.health for entry in live}
    by_check = {} if probe is None else {(c.line, c.id): c for c in probe.checks}
    rows = []
    for line in site.lines:
        for device in line.devices:
            key = (line.id, device.id)
            health, check = by_live.get(key), by_check.get(key)
            if health is not None:
                state, since, error, source = (
                    health.state.value,
                    health.since,
                    health.last_error,
                    "live",
                )
            elif check is not None and probe is not None:
                state, since, error, source = check.state.value, probe.at, check.error, "check"
            else:
                state, since, error, source = None, None, None, "none"
            rows.append(
                DeviceRow(
                    line.id,
                    device.id,
                    device.kind,
                    device.role,
                    address_of(device),
                    state,
                    since,
                    error,
                    source,
                )
            )
    return rows


def address_of(device: DeviceConfig) -> str:
    match device:
        case OpcUaDeviceConfig() | PrinterOpcUaDeviceConfig() | CameraOpcUaDeviceConfig():
            return f"{device.endpoint} ({device.security_policy}/{device.security_mode})"
        case ModbusRtuDeviceConfig() | ScannerSerialDeviceConfig():
            return f"{device.serial_port}@{device.baudrate}"
        case CameraFolderDeviceConfig():
            return device.folder
        case _:
            return f"{device.host}:{device.port}"
