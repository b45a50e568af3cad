"""The devices a line runtime needs, opened from the line's `devices` in the site file."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from config.devices import DeviceConfig, OpcUaDeviceConfig, PrinterTcpDeviceConfig
from config.sections import LineConfig
from drivers.base import Camera, Printer, UsageError
from drivers.opcua.client import OpcUaClient
from gateway.devices import build_device, open_device
from gateway.line.plc import LinePlc
from gateway.line.runtime import CaseLabelDevices, LineDevices

UP_TIMEOUT_S = 15.0


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
    if not isinstance(printer_config, PrinterTcpDeviceConfig):
        raise UsageError(f"line {line.id}: the unit printer must be a printer-tcp device")
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
            case_labels=await _case_labels(line, base_dir, stack),
        )


async def _case_labels(
    line: LineConfig, base_dir: Path, stack: contextlib.AsyncExitStack
) -> CaseLabelDevices | None:
    """The case printer and camera, when the line has both (a TGP/1 printer)."""
    printer_config = next((d for d in line.devices if d.role == "case-printer"), None)
    camera_config = next((d for d in line.devices if d.role == "case-camera"), None)
    if printer_config is None or camera_config is None:
        return None
    if not isinstance(printer_config, PrinterTcpDeviceConfig):
        raise UsageError(f"line {line.id}: the case printer must be a printer-tcp device")
    printer = await stack.enter_async_context(
        open_device(build_device(printer_config, base_dir=base_dir))
    )
    camera = await stack.enter_async_context(
        open_device(build_device(camera_config, base_dir=base_dir))
    )
    assert isinstance(printer, Printer)
    assert isinstance(camera, Camera)
    waiter = getattr(printer, "wait_until_up", None)
    if waiter is not None:
        await waiter(UP_TIMEOUT_S)
    return CaseLabelDevices(
        printer=printer,
        job=printer_config.job,
        fields=tuple(printer_config.job_fields),
        camera=camera,
    )
