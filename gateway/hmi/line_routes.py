"""The live line view, its event stream, and start / hold / resume / stop with confirmation."""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from ebr.users import UserError
from gateway.hmi.access import actor_for, sessions_of, viewer
from gateway.hmi.actions import perform
from gateway.hmi.context import frame, hmi_context
from gateway.hmi.errors import HmiError
from gateway.hmi.live import stream
from gateway.hmi.rendering import NO_STORE, render
from gateway.hmi.sessions import COOKIE
from gateway.hmi.texts import DONE

router = APIRouter()
CONTROLS: Final = ("start", "hold", "resume", "stop")


@router.get("/line")
def line_view(request: Request, done: str = "") -> Response:
    session = viewer(request)
    return render(
        request, "line.html", session.language, **frame(request, session, done=DONE.get(done))
    )


@router.get("/line/stream")
def line_stream(request: Request) -> Response:
    session = viewer(request, renew=False)
    sessions, cookie = sessions_of(request), session.cookie

    def still_allowed() -> bool:
        try:
            sessions.current(cookie, renew=False)
        except UserError:
            return False
        return True

    context = hmi_context(request)
    return StreamingResponse(
        stream(context.console, session.language, context.settings, still_allowed),
        media_type="text/event-stream",
        headers={**NO_STORE, "X-Accel-Buffering": "no"},
    )


@router.get("/confirm/{action}")
def confirm_page(request: Request, action: str) -> Response:
    session = viewer(request)
    _known(action, request)
    return render(
        request, "confirm.html", session.language, **frame(request, session, action=action)
    )


@router.post("/line/{action}")
async def control(request: Request, action: str) -> Response:
    _known(action, request)
    session, _form = await actor_for(request)
    console = hmi_context(request).console
    operations = {
        "start": console.start,
        "hold": console.hold,
        "resume": console.start,
        "stop": console.stop,
    }
    failed = await perform(operations[action](session.user))
    if failed is not None:
        return render(
            request,
            "confirm.html",
            session.language,
            status=409,
            **frame(request, session, action=action, failed=failed),
        )
    return RedirectResponse(f"/line?done={action}", status_code=303)


def _known(action: str, request: Request) -> None:
    if action not in CONTROLS:
        raise HmiError(
            404,
            f"no line control {action!r}",
            where=request.url.path,
            fix=f"use one of: {', '.join(CONTROLS)}",
        )


__all__ = ["COOKIE", "router"]
