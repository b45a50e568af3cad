"""Shelving an alarm (ISA-18.2): for a chosen duration with a reason, and unshelving it. The
alarm manager refuses alarms that stop the line; the console journals the change."""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from gateway.hmi.access import actor_for, viewer
from gateway.hmi.actions import Failure, perform
from gateway.hmi.context import frame, hmi_context
from gateway.hmi.forms import field
from gateway.hmi.live import shelved_views
from gateway.hmi.rendering import render
from gateway.hmi.sessions import HmiSession

router = APIRouter()
DURATIONS_MIN: Final = (5, 15, 30, 60, 120, 240, 480)
"""What the operator may choose; the alarm manager's own limit (8 h by default) still holds."""


@router.get("/alarms/shelve/{alarm}/{source:path}")
def shelve_page(request: Request, alarm: str, source: str) -> Response:
    session = viewer(request)
    return _page(request, session, alarm, source)


@router.post("/alarms/shelve")
async def shelve(request: Request) -> Response:
    session, form = await actor_for(request)
    alarm, source = field(form, "alarm"), field(form, "source")
    reason = field(form, "reason").strip()
    failed = _bad_input(field(form, "minutes"), reason)
    if failed is None:
        minutes = int(field(form, "minutes"))
        console = hmi_context(request).console

        async def act() -> None:
            console.shelve(session.user, alarm, source, minutes * 60.0, reason)

        failed = await perform(act())
    if failed is not None:
        return _page(request, session, alarm, source, failed=failed, reason=reason)
    return RedirectResponse("/alarms?done=shelve", status_code=303)


@router.post("/alarms/unshelve")
async def unshelve(request: Request) -> Response:
    session, form = await actor_for(request)
    console = hmi_context(request).console

    async def act() -> None:
        console.unshelve(session.user, field(form, "alarm"), field(form, "source"))

    failed = await perform(act())
    if failed is not None:
        return render(
            request,
            "alarms.html",
            session.language,
            status=409,
            **alarms_frame(request, session, failed),
        )
    return RedirectResponse("/alarms?done=unshelve", status_code=303)


def alarms_frame(
    request: Request, session: HmiSession, failed: Failure | None = None, **extra: Any
) -> dict[str, Any]:
    """The alarm list's page: the live alarms and the shelved ones."""
    shelved = shelved_views(hmi_context(request).console, session.language)
    return frame(request, session, failed=failed, shelved=shelved, **extra)


def _bad_input(minutes: str, reason: str) -> Failure | None:
    if not minutes.isdigit() or int(minutes) not in DURATIONS_MIN:
        choices = ", ".join(str(m) for m in DURATIONS_MIN)
        return Failure(
            f"shelving duration {minutes!r} is not offered", f"choose {choices} min", 400
        )
    if not reason:
        return Failure("the reason is empty", "say why the alarm is shelved", 400)
    return None


def _page(
    request: Request,
    session: HmiSession,
    alarm: str,
    source: str,
    *,
    failed: Failure | None = None,
    reason: str = "",
) -> Response:
    runtime = hmi_context(request).console.runtime
    shown = None
    if runtime is not None:
        shown = next(
            (a for a in runtime.alarms.standing() if a.id == alarm and a.source == source), None
        )
    return render(
        request,
        "shelve.html",
        session.language,
        status=failed.status if failed else 200,
        **frame(
            request,
            session,
            alarm=alarm,
            source=source,
            shown=shown,
            durations=DURATIONS_MIN,
            failed=failed,
            reason=reason,
        ),
    )
