"""The scanner station's page: one form per operation, scans fill the focused field, Enter
moves to the next field and submits the last; the result or the refusal is shown above."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.hmi.access import actor_for, viewer
from gateway.hmi.actions import Failure
from gateway.hmi.context import frame, hmi_context
from gateway.hmi.errors import HmiError
from gateway.hmi.i18n import translations
from gateway.hmi.rendering import render
from gateway.hmi.sessions import HmiSession
from gateway.hmi.station import OPERATIONS, REASONS, run_operation

router = APIRouter()


@router.get("/station")
@router.get("/station/{op}")
def station_page(request: Request, op: str = "identify") -> Response:
    session = viewer(request)
    return _page(request, session, _known(op, request))


@router.post("/station/{op}")
async def station_operation(request: Request, op: str) -> Response:
    _known(op, request)
    session, form = await actor_for(request)
    outcome = await run_operation(hmi_context(request).console, session.user, op, form)
    if isinstance(outcome, Failure):
        kept = {name: values[0] for name, values in form.items() if name != "csrf_token"}
        return _page(request, session, op, failed=outcome, kept=kept)
    text = translations(session.language).gettext(outcome.message).format(**outcome.values)
    return _page(request, session, op, done=text)


def _known(op: str, request: Request) -> str:
    if op not in OPERATIONS:
        raise HmiError(
            404,
            f"no station operation {op!r}",
            where=request.url.path,
            fix=f"use one of: {', '.join(OPERATIONS)}",
        )
    return op


def _page(
    request: Request,
    session: HmiSession,
    op: str,
    *,
    failed: Failure | None = None,
    done: str | None = None,
    kept: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "station.html",
        session.language,
        status=failed.status if failed else 200,
        **frame(
            request,
            session,
            op=op,
            operations=OPERATIONS,
            reasons=REASONS,
            failed=failed,
            station_done=done,
            kept=kept or {},
        ),
    )
