"""Line clearance with its e-signature, the vision challenge, and the alarm list."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from gateway.hmi.access import actor_for, viewer
from gateway.hmi.actions import Failure, perform
from gateway.hmi.context import frame, hmi_context
from gateway.hmi.forms import field
from gateway.hmi.rendering import render
from gateway.hmi.shelving_routes import alarms_frame
from gateway.hmi.signature import SignatureRefusedError, check_signature
from gateway.hmi.texts import DONE

router = APIRouter()


def _checklist(request: Request) -> tuple[str, ...]:
    runtime = hmi_context(request).console.runtime
    return runtime.supervisor.checklist if runtime is not None else ()


@router.get("/clearance")
def clearance_page(request: Request) -> Response:
    session = viewer(request)
    return render(
        request,
        "clearance.html",
        session.language,
        **frame(request, session, checklist=_checklist(request), now=datetime.now(UTC)),
    )


@router.post("/clearance")
async def clearance(request: Request) -> Response:
    session, form = await actor_for(request)
    checklist = _checklist(request)
    confirmed = [item for index, item in enumerate(checklist) if field(form, f"item-{index}")]
    failed: Failure | None
    try:
        await check_signature(request, session.user, field(form, "password"))
    except SignatureRefusedError as refused:
        failed = refused.failure
    else:
        failed = await perform(
            hmi_context(request).console.clearance(session.user, confirmed, field(form, "password"))
        )
    if failed is None:
        return RedirectResponse("/line?done=clearance", status_code=303)
    return render(
        request,
        "clearance.html",
        session.language,
        status=failed.status,
        **frame(
            request,
            session,
            checklist=checklist,
            confirmed=set(confirmed),
            failed=failed,
            now=datetime.now(UTC),
        ),
    )


@router.get("/challenge")
def challenge_page(request: Request) -> Response:
    session = viewer(request)
    result = hmi_context(request).console.challenge_result
    return render(
        request, "challenge.html", session.language, **frame(request, session, result=result)
    )


@router.post("/challenge")
async def challenge(request: Request) -> Response:
    session, _form = await actor_for(request)
    console = hmi_context(request).console
    failed = await perform(console.challenge(session.user))
    return render(
        request,
        "challenge.html",
        session.language,
        status=409 if failed else 200,
        **frame(request, session, result=console.challenge_result, failed=failed),
    )


@router.get("/alarms")
def alarms_page(request: Request, done: str = "") -> Response:
    session = viewer(request)
    return render(
        request,
        "alarms.html",
        session.language,
        **alarms_frame(request, session, done=DONE.get(done)),
    )


@router.post("/alarms/ack")
async def acknowledge(request: Request) -> Response:
    session, form = await actor_for(request)
    console = hmi_context(request).console

    async def ack() -> None:
        console.acknowledge(session.user, field(form, "alarm"), field(form, "source"))

    failed = await perform(ack())
    if failed is not None:
        return render(
            request,
            "alarms.html",
            session.language,
            status=409,
            **alarms_frame(request, session, failed),
        )
    back = field(form, "next")
    target = back if back.startswith("/") and not back.startswith("//") else "/alarms"
    return RedirectResponse(f"{target}?done=ack", status_code=303)
