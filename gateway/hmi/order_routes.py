"""Order picking: the line's open packaging orders, and the operator's pick."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from gateway.hmi.access import actor_for, viewer
from gateway.hmi.actions import Failure, perform
from gateway.hmi.context import frame, hmi_context
from gateway.hmi.errors import HmiError
from gateway.hmi.forms import field
from gateway.hmi.i18n import day, translations
from gateway.hmi.order_pick import OrderPicker
from gateway.hmi.rendering import render
from gateway.hmi.sessions import HmiSession
from gateway.hmi.texts import PHASES

router = APIRouter()


def picker_of(request: Request) -> OrderPicker:
    picker: OrderPicker | None = request.app.state.hmi_operator.orders
    if picker is None:
        raise HmiError(
            404,
            "order picking is not set up on this HMI",
            where=request.url.path,
            fix="the gateway runs its own batch here; go to the line view",
        )
    return picker


@router.get("/orders")
async def orders_page(request: Request) -> Response:
    session = viewer(request)
    return await _page(request, session)


@router.post("/orders/pick")
async def pick(request: Request) -> Response:
    session, form = await actor_for(request)
    picker = picker_of(request)
    console = hmi_context(request).console
    failed = await perform(picker.pick(console, session.user, field(form, "order")))
    if failed is not None:
        return await _page(request, session, failed=failed)
    return RedirectResponse("/line?done=pick", status_code=303)


async def _page(
    request: Request, session: HmiSession, *, failed: Failure | None = None
) -> Response:
    picker = picker_of(request)
    orders = await asyncio.to_thread(picker.open_orders)
    _ = translations(session.language).gettext
    rows = [
        {
            "order": open_order.order,
            "expiry": day(open_order.order.expiry, session.language),
            "phase_text": _(PHASES.get(open_order.phase, open_order.phase)),
        }
        for open_order in orders
    ]
    runtime = hmi_context(request).console.runtime
    return render(
        request,
        "orders.html",
        session.language,
        status=failed.status if failed else 200,
        **frame(
            request,
            session,
            orders=rows,
            picked=picker.picked,
            on_line=runtime.batch_id if runtime is not None else None,
            failed=failed,
        ),
    )
