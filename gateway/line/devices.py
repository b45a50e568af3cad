"""The devices a line runtime needs, opened from the line's `devices` in the site file."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from config.devices import DeviceConfig, OpcUaDeviceConfig, PrinterDeviceConfig
from config.sections import LineConfig
from drivers.base import Camera, Printer, UsageError
from drivers.opcua.client import OpcUaClient
from gateway.devices import build_device, open_device
from gateway.line.plc import LinePlc
from gateway.line.runtime import LevelDevices, LineDevices

UP_TIMEOUT_S = 15.0
PACKING_LEVELS = ("case", "pallet")


def _one(line: LineConfig, role: str) -> DeviceConfig:
    found = [d for d in line.devices if d.role == role]
    if not found:
        raise UsageError(
            f"line {line.id} has no {role} device",
            hint=f"add a device with role: {role} to the line in the site file",
        )
    return found[0]


@contextlib.asynccontextmanager
async def open_line_devices(line: LineConfig, base_dir: Path) -> AsyncIterator[LineDevices]:
    plc_config = _one(line, "line-plc")
    printer_config = _one(line, "unit-printer")
    camera_config = _one(line, "unit-camera")
    if not isinstance(plc_config, OpcUaDeviceConfig):
        raise UsageError(
            f"line {line.id}: the line runtime drives its PLC over OPC UA",
            hint="give the line-plc device kind: opcua",
        )
    if not isinstance(printer_config, PrinterDeviceConfig):
        raise UsageError(
            f"line {line.id}: the unit printer must be a printer",
            hint="give it kind printer-tcp, printer-opcua or printer-modbus",
        )
    async with contextlib.AsyncExitStack() as stack:
        plc_client = await stack.enter_async_context(
            open_device(build_device(plc_config, base_dir=base_dir))
        )
        printer = await stack.enter_async_context(
            open_device(build_device(printer_config, base_dir=base_dir))
        )
        camera = await stack.enter_async_context(
            open_device(build_device(camera_config, base_dir=base_dir))
        )
        assert isinstance(plc_client, OpcUaClient)
        assert isinstance(printer, Printer)
        assert isinstance(camera, Camera)
        await plc_client.wait_up(UP_TIMEOUT_S)
        waiter = getattr(printer, "wait_until_up", None)
        if waiter is not None:
            await waiter(UP_TIMEOUT_S)
        yield LineDevices(
            plc=LinePlc(plc_client, plc_config.tags),
            printer=printer,
            printer_job=printer_config.job,
            printer_fields=tuple(printer_config.job_fields),
            camera=camera,
            levels={
                level: await _level_devices(line, level, base_dir, stack)
                for level in PACKING_LEVELS
            },
        )


async def _level_devices(
    line: LineConfig, level: str, base_dir: Path, stack: contextlib.AsyncExitStack
) -> LevelDevices:
    """The level's camera when the line has one, and its label printer when the camera is
    there to verify its labels."""
    printer_config = next((d for d in line.devices if d.role == f"{level}-printer"), None)
    camera_config = next((d for d in line.devices if d.role == f"{level}-camera"), None)
    if camera_config is None:
        return LevelDevices()
    camera = await stack.enter_async_context(
        open_device(build_device(camera_config, base_dir=base_dir))
    )
    assert isinstance(camera, Camera)
    if printer_config is None:
        return LevelDevices(camera=camera)
    if not isinstance(printer_config, PrinterDeviceConfig):
        raise UsageError(
            f"line {line.id}: the {level} printer must be a printer",
            hint="give it kind printer-tcp, printer-opcua or printer-modbus",
        )
    printer = await stack.enter_async_context(
        open_device(build_device(printer_config, base_dir=base_dir))
    )
    assert isinstance(printer, Printer)
    waiter = getattr(printer, "wait_until_up", None)
    if waiter is not None:
        await waiter(UP_TIMEOUT_S)
    return LevelDevices(
        camera=camera,
        printer=printer,
        job=printer_config.job,
        fields=tuple(printer_config.job_fields),
    )
