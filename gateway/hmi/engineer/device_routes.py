"""Devices and their health, an on-demand check of them all, and reading one tag once."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from gateway.devices import check_devices
from gateway.hmi.access import actor_for
from gateway.hmi.engineer.context import ENGINEER, engineer_context, engineering_viewer
from gateway.hmi.engineer.device_list import DeviceRow, Probe, device_rows
from gateway.hmi.engineer.pages import page
from gateway.hmi.engineer.tag_read import (
    DATA_TYPES,
    TABLES,
    RegisterSpec,
    TagReadError,
    read_tag,
    readable_devices,
)
from gateway.hmi.errors import HmiError
from gateway.hmi.forms import field
from gateway.hmi.sessions import HmiSession

router = APIRouter()


def _rows(request: Request) -> list[DeviceRow]:
    context = engineer_context(request)
    live = context.board.snapshot() if context.board is not None else []
    return device_rows(context.site, live, context.probe)


@router.get("/engineer")
def engineer_home(request: Request) -> Response:
    engineering_viewer(request)
    return RedirectResponse("/engineer/devices", status_code=303)


@router.get("/engineer/devices")
def devices_page(request: Request) -> Response:
    session = engineering_viewer(request)
    return page(request, session, "eng_devices.html", rows=_rows(request))


@router.get("/engineer/devices/rows")
def device_table_rows(request: Request) -> Response:
    """The table's rows alone, for the page's periodic refresh (does not renew the session)."""
    session = engineering_viewer(request, renew=False)
    return page(request, session, "eng_device_rows.html", rows=_rows(request))


@router.post("/engineer/devices/check")
async def check_every_device(request: Request) -> Response:
    await actor_for(request, ENGINEER)
    context = engineer_context(request)
    checks = await check_devices(context.site, context.probe_timeout_s)
    context.probe = Probe(datetime.now(UTC), tuple(checks))
    return RedirectResponse("/engineer/devices?done=check", status_code=303)


def _tag_page(
    request: Request, session: HmiSession, *, status: int = 200, **extra: object
) -> Response:
    context = engineer_context(request)
    return page(
        request,
        session,
        "eng_tag.html",
        status=status,
        devices=readable_devices(
            [device for line in context.site.lines for device in line.devices]
        ),
        tables=TABLES,
        data_types=DATA_TYPES,
        **extra,
    )


@router.get("/engineer/tag")
def tag_page(request: Request) -> Response:
    session = engineering_viewer(request)
    return _tag_page(request, session, entered={})


@router.post("/engineer/tag")
async def read_one_tag(request: Request) -> Response:
    session, form = await actor_for(request, ENGINEER)
    context = engineer_context(request)
    entered = {name: field(form, name) for name in ("device", "address", "table", "type", "length")}
    devices = {d.id: d for line in context.site.lines for d in readable_devices(list(line.devices))}
    device = devices.get(entered["device"])
    try:
        if device is None:
            raise TagReadError(
                f"no OPC UA or Modbus device {entered['device']!r} in the site file",
                where="the device field",
                fix=f"pick one of: {', '.join(sorted(devices)) or 'none configured'}",
            )
        length = entered["length"].strip()
        if length and not length.isdigit():
            raise TagReadError(
                f"string length {length!r} is not a whole number",
                where="the length field",
                fix="give the characters the device reserves, e.g. 20, or leave it empty",
            )
        register = RegisterSpec(
            entered["table"] or "holding", entered["type"] or "uint16", int(length or 0)
        )
        reading = await read_tag(
            device,
            entered["address"],
            register=register,
            base_dir=context.site.base_dir,
            timeout_s=context.probe_timeout_s,
        )
    except TagReadError as error:
        failed = HmiError(error.status, error.what, where=error.where, fix=error.fix)
        return _tag_page(request, session, status=failed.status, entered=entered, failed=failed)
    return _tag_page(request, session, entered=entered, reading=reading)
