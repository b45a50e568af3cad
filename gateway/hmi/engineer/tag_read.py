"""Read one tag of one device once, through the same driver client the gateway drives the line
with (built from the site file by `gateway.devices.build_device`): an OPC UA node id (or a tag
alias of the site file), or a Modbus tag of the register map or a register given by table,
address and data type."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from pydantic import ValidationError

from config.devices import (
    DeviceConfig,
    ModbusRtuDeviceConfig,
    ModbusTagConfig,
    ModbusTcpDeviceConfig,
    OpcUaDeviceConfig,
)
from drivers.base import DriverError, TagScalar, UsageError
from drivers.modbus.client import ModbusTagSource
from drivers.modbus.tagmap import DataType, Table
from drivers.opcua.client import OpcUaClient
from gateway.devices import build_device, open_device

READABLE: Final = (OpcUaDeviceConfig, ModbusTcpDeviceConfig, ModbusRtuDeviceConfig)
AD_HOC_TAG: Final = "engineer_read"
TABLES: Final = tuple(table.value for table in Table)
DATA_TYPES: Final = tuple(data_type.value for data_type in DataType)


class TagReadError(Exception):
    """`status` 400 for a wrong request (an unknown node, a bad register), 502 when the device
    does not answer as it should."""

    def __init__(self, what: str, *, where: str, fix: str, status: int = 400) -> None:
        super().__init__(what)
        self.what = what
        self.where = where
        self.fix = fix
        self.status = status


@dataclass(frozen=True, slots=True)
class RegisterSpec:
    """A Modbus register not in the map: where it is and how to decode it."""

    table: str
    data_type: str
    length: int = 0


@dataclass(frozen=True, slots=True)
class TagReading:
    device: str
    address: str
    value: TagScalar | None
    data_type: str
    quality: str
    source_time: datetime | None
    received_time: datetime


def readable_devices(devices: list[DeviceConfig]) -> list[DeviceConfig]:
    return [device for device in devices if isinstance(device, READABLE)]


async def read_tag(
    device: DeviceConfig,
    address: str,
    *,
    register: RegisterSpec,
    base_dir: Path,
    timeout_s: float,
) -> TagReading:
    """The tag's value now; `TagReadError` saying what, where and how to fix it otherwise."""
    where = f"{device.id}: {address or '(no address)'}"
    if not address.strip():
        raise TagReadError(
            "no node id or register given",
            where=f"{device.id}: the address field",
            fix="enter a node id like ns=1;s=Line.Counters.Total, a tag name of the site file, "
            "or a Modbus register number",
        )
    tag, data_type = _tag_of(device, address.strip(), register, where)
    prepared = _with_ad_hoc_register(device, address.strip(), register, where)
    try:
        client = build_device(prepared, base_dir=base_dir)
        async with asyncio.timeout(timeout_s), open_device(client):
            if isinstance(client, OpcUaClient):
                await client.wait_up(timeout_s)
            elif isinstance(client, ModbusTagSource):
                await client.wait_connected(timeout_s)
            value = (await client.read([tag]))[tag]  # type: ignore[union-attr]
    except TimeoutError:
        raise TagReadError(
            f"the device did not answer within {timeout_s:g} s",
            where=where,
            fix="check that the device is powered, reachable and its address in the site file",
            status=502,
        ) from None
    except DriverError as error:
        raise TagReadError(
            error.message,
            where=where,
            fix=error.hint or "check the address and the device",
            status=400 if isinstance(error, UsageError) else 502,
        ) from None
    shown_type = data_type or (type(value.value).__name__ if value.value is not None else "—")
    return TagReading(
        device.id,
        address.strip(),
        value.value,
        shown_type,
        value.quality.value,
        value.source_time,
        value.received_time,
    )


def _tag_of(
    device: DeviceConfig, address: str, register: RegisterSpec, where: str
) -> tuple[str, str | None]:
    if isinstance(device, OpcUaDeviceConfig):
        return address, None
    if not isinstance(device, ModbusTcpDeviceConfig | ModbusRtuDeviceConfig):
        raise TagReadError(
            f"{device.id} is a {device.kind}: it has no tags to read",
            where=where,
            fix="pick an OPC UA or Modbus device",
        )
    for tag in device.tags:
        if tag.name == address:
            return tag.name, tag.type
    if not address.isdigit():
        names = ", ".join(tag.name for tag in device.tags)
        raise TagReadError(
            f"{address!r} is neither a tag of {device.id} nor a register number",
            where=where,
            fix=f"give one of {names}, or a register address 0-65535 with its table and type",
        )
    return AD_HOC_TAG, register.data_type


def _with_ad_hoc_register(
    device: DeviceConfig, address: str, register: RegisterSpec, where: str
) -> DeviceConfig:
    if not isinstance(device, ModbusTcpDeviceConfig | ModbusRtuDeviceConfig):
        return device
    if not address.isdigit() or any(tag.name == address for tag in device.tags):
        return device
    try:
        tag = ModbusTagConfig(
            name=AD_HOC_TAG,
            slave=device.tags[0].slave,
            table=register.table,  # type: ignore[arg-type]
            address=int(address),
            type=register.data_type,  # type: ignore[arg-type]
            length=register.length,
        )
    except ValidationError as error:
        problems = "; ".join(str(problem["msg"]) for problem in error.errors())
        raise TagReadError(
            f"register {address} as {register.data_type} in {register.table}: {problems}",
            where=where,
            fix="coils and discrete inputs hold bool; holding and input registers a number "
            "(string needs a length); addresses are 0-65535",
        ) from None
    return device.model_copy(update={"tags": [tag]})
