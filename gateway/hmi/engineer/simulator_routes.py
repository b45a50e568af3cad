"""Simulator control in demo mode: line rate, defects, camera faults; refused (409) on a line
that is not simulated."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from gateway.hmi.access import actor_for
from gateway.hmi.engineer.context import ENGINEER, engineer_context, engineering_viewer
from gateway.hmi.engineer.pages import number_field, page
from gateway.hmi.engineer.simulator_control import SimulatorControl, SimulatorSettingError
from gateway.hmi.errors import HmiError
from gateway.hmi.forms import field
from gateway.hmi.sessions import HmiSession

router = APIRouter()


def _control(request: Request) -> SimulatorControl | None:
    simulation = engineer_context(request).simulation
    return None if simulation is None else SimulatorControl(simulation)


def _simulator_page(
    request: Request, session: HmiSession, *, status: int = 200, **extra: object
) -> Response:
    control = _control(request)
    state = None if control is None else control.state()
    return page(request, session, "eng_simulator.html", status=status, state=state, **extra)


@router.get("/engineer/simulator")
def simulator_page(request: Request) -> Response:
    session = engineering_viewer(request)
    return _simulator_page(request, session)


@router.post("/engineer/simulator/{setting}")
async def change_simulator(request: Request, setting: str) -> Response:
    session, form = await actor_for(request, ENGINEER)
    control = _control(request)
    if control is None:
        raise HmiError(
            409,
            "the line is not simulated: simulator control works in demo mode only",
            where=request.url.path,
            fix="run the demo (`make demo`) to drive a simulated line; a real line is not changed "
            "from here",
        )
    try:
        if setting == "rate":
            control.set_rate(number_field(form, "rate_upm", example="600"))
        elif setting == "defects":
            control.set_defects(
                number_field(form, "print_defects", example="0.02"),
                number_field(form, "camera_faults", example="0.005"),
            )
        elif setting == "camera":
            control.set_camera(
                field(form, "camera"),
                offline=field(form, "offline") == "1",
                delay_s=number_field(form, "delay_s", example="0.5"),
                garbage_rate=number_field(form, "garbage_rate", example="0.1"),
            )
        else:
            raise HmiError(
                404,
                f"no simulator setting {setting!r}",
                where=request.url.path,
                fix="use rate, defects or camera",
            )
    except SimulatorSettingError as error:
        failed = HmiError(400, error.what, where=f"form field {error.field}", fix=error.fix)
        return _simulator_page(request, session, status=400, failed=failed, entered=form)
    except HmiError as error:
        if error.status != 400:
            raise
        return _simulator_page(request, session, status=400, failed=error, entered=form)
    return RedirectResponse(f"/engineer/simulator?done={setting}", status_code=303)
