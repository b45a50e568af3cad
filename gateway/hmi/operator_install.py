"""`install_operator(app, ...)`: the operator's screens beyond the line view — order picking,
alarm shelving, the scanner station — added to an app made by `create_hmi_app`."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from gateway.hmi.order_pick import OrderPicker
from gateway.hmi.order_routes import router as order_router
from gateway.hmi.shelving_routes import router as shelving_router
from gateway.hmi.station_routes import router as station_router


@dataclass(frozen=True, slots=True)
class OperatorScreens:
    orders: OrderPicker | None
    """None: the gateway runs its own batch (the demo), there is nothing to pick."""


def install_operator(app: FastAPI, *, orders: OrderPicker | None = None) -> None:
    app.state.hmi_operator = OperatorScreens(orders)
    for router in (order_router, shelving_router, station_router):
        app.include_router(router)
