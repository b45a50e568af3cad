"""The Orders object's methods: packaging orders and product master data from the MES.

An order is taken as a packaging order (`ebr.orders.OrderBook.download`), which copies the
product's approved recipe as its control recipe and makes the order's batch, audited as the
calling account. OPC UA orders carry no number of their own: the order number is
`<product>:<lot>`, so downloading is idempotent on (product, lot): the same order again answers
the batch it made; another order with that lot is refused, whatever the batch's phase.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any, Final

from asyncua import ua
from asyncua.server.server import Server
from asyncua.ua.object_ids import ObjectIds
from asyncua.ua.status_codes import StatusCodes
from sqlalchemy import Engine

from config import SiteConfig
from ebr.audit.actor import Actor
from ebr.audit.trail import AuditTrail
from ebr.errors import NotFoundError
from ebr.orders import OrderBook, OrderRequest
from ebr.recipes.errors import OrderConflictError, RecipeError, RecipeNotApprovedError
from ebr.recipes.errors import OrderError as StoreOrderError
from gateway.opcua_server.access import Caller
from gateway.opcua_server.calls import MethodCallError, bound_method
from gateway.opcua_server.methods import DOWNLOAD_ORDER, ORDERS_METHODS, UPDATE_PRODUCT
from gateway.opcua_server.model import link_methods, method_object_type, node_id
from gateway.opcua_server.order_json import Order, OrderError, parse_order
from gateway.opcua_server.product_check import check_product

ORDERS_NODE: Final = "Site.Orders"
JSON_FIELD: Final = {
    "product_id": "product",
    "line_id": "line",
    "quantity": "planned_quantity",
    "number": "lot",
}
"""The order JSON's name of each `OrderRequest` field (the number is made from the lot)."""


def order_number(order: Order) -> str:
    return f"{order.product}:{order.lot}"


class OrdersService:
    def __init__(
        self,
        config: SiteConfig,
        engine: Engine,
        *,
        audit: AuditTrail | None = None,
        today: Callable[[], date] | None = None,
    ) -> None:
        self._config = config
        self._book = OrderBook(engine, audit=audit)
        self._today = today or (lambda: datetime.now(UTC).astimezone(config.zone).date())

    def callbacks(self) -> Mapping[str, Callable[..., Awaitable[Any]]]:
        return {
            DOWNLOAD_ORDER.name: bound_method(DOWNLOAD_ORDER, self.download_order),
            UPDATE_PRODUCT.name: bound_method(UPDATE_PRODUCT, self.update_product),
        }

    async def download_order(self, caller: Caller, values: list[Any]) -> list[Any]:
        (text,) = values
        try:
            order = parse_order(text, self._config, self._today())
        except OrderError as error:
            raise _refused("DownloadOrder", error) from None
        actor = Actor(caller.user_id, caller.username)
        return [await asyncio.to_thread(self._download, order, actor)]

    async def update_product(self, caller: Caller, values: list[Any]) -> list[Any]:
        (text,) = values
        try:
            check_product(text, self._config)
        except OrderError as error:
            raise _refused("UpdateProduct", error) from None
        return [True]

    def _download(self, order: Order, actor: Actor) -> int:
        request = OrderRequest(
            number=order_number(order),
            product_id=order.product,
            line_id=order.line,
            lot=order.lot,
            quantity=order.planned_quantity,
            production_date=order.production_date,
            expiry=order.expiry,
        )
        try:
            taken = self._book.download(request, actor)
        except OrderConflictError as conflict:
            raise _conflict(order, conflict) from None
        except RecipeNotApprovedError as error:
            raise MethodCallError(
                StatusCodes.BadInvalidState,
                f"DownloadOrder [field product]: {error}",
                argument=0,
            ) from None
        except (StoreOrderError, RecipeError) as error:
            field = JSON_FIELD.get(error.field, error.field)
            unknown = isinstance(error, NotFoundError)
            raise _refused(
                "DownloadOrder", OrderError(field, str(error), unknown=unknown)
            ) from None
        if taken.batch_id is None:
            raise MethodCallError(
                StatusCodes.BadInvalidState,
                f"DownloadOrder: order {taken.number!r} was made by hand and awaits its "
                "supervisor's signature; it gets its batch once signed",
                argument=0,
            )
        return taken.batch_id


async def install_orders(server: Server, namespace_uri: str, service: OrdersService) -> None:
    """Add `Types.OrdersType` and its instance `Site.Orders`, methods linked to `service`."""
    ns = await server.get_namespace_index(namespace_uri)
    base = server.get_node(ObjectIds.BaseObjectType)
    orders_type = await method_object_type(base, ns, "OrdersType", ORDERS_METHODS)
    site = server.get_node(node_id(ns, "Site"))
    await site.add_object(node_id(ns, ORDERS_NODE), ua.QualifiedName("Orders", ns), orders_type)
    link_methods(server, ns, ORDERS_NODE, ORDERS_METHODS, service.callbacks())


def _conflict(order: Order, conflict: OrderConflictError) -> MethodCallError:
    if not conflict.differences:
        return MethodCallError(StatusCodes.BadEntryExists, f"DownloadOrder: {conflict}", argument=0)
    differences = ", ".join(
        f"{JSON_FIELD.get(name, name)} {_shown(taken)!r} (this order: {_shown(sent)!r})"
        for name, taken, sent in conflict.differences
    )
    return MethodCallError(
        StatusCodes.BadEntryExists,
        f"DownloadOrder: product {order.product!r} lot {order.lot!r} is batch "
        f"{conflict.batch_id}, downloaded with {differences}; a lot is used once "
        "per product: send the same order again, or a new lot",
        argument=0,
    )


def _shown(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


def _refused(method: str, error: OrderError) -> MethodCallError:
    status = StatusCodes.BadNotFound if error.unknown else StatusCodes.BadInvalidArgument
    where = f" [field {error.field}]" if error.field else ""
    return MethodCallError(status, f"{method}{where}: {error.message}", argument=0)
