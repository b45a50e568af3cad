"""The last units' camera images, shown only when the operator asks: a page listing each
unit's code, verdict and reason beside its image, and the image itself as PNG.

Both run on the event loop that adds the frames (async routes), so the frame buffer is read
where it is written; the PNG is encoded in a worker thread."""

from __future__ import annotations

import asyncio
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.hmi.access import viewer
from gateway.hmi.context import frame, hmi_context
from gateway.hmi.errors import HmiError
from gateway.hmi.rendering import NO_STORE, render
from gateway.hmi.texts import REASONS
from gateway.line.recent_frames import png_of

router = APIRouter()
VERDICTS: Final = {"accepted": "✔", "rejected": "✖", "pending": "…"}


@router.get("/line/units")
async def last_units(request: Request) -> Response:
    session = viewer(request)
    console = hmi_context(request).console
    return render(
        request,
        "units.html",
        session.language,
        **frame(
            request,
            session,
            units=console.last_units(),
            keep=console.recent.keep,
            symbols=VERDICTS,
            reasons=REASONS,
        ),
    )


@router.get("/line/units/{unit_ref}.png")
async def unit_png(request: Request, unit_ref: str) -> Response:
    viewer(request)
    console = hmi_context(request).console
    found = console.recent.find(unit_ref) if console.runtime is not None else None
    if found is None:
        raise HmiError(
            404,
            f"no image of unit {unit_ref!r} is kept",
            where=request.url.path,
            fix=f"only the last {console.recent.keep} units' images are kept; "
            "open the last units' page again",
        )
    try:
        png = await asyncio.to_thread(png_of, found)
    except ValueError as error:
        raise HmiError(
            422, str(error), where=request.url.path, fix="check the camera's image settings"
        ) from None
    return Response(png, media_type="image/png", headers=NO_STORE)
