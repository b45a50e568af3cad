"""`POST /api/orders` (an order downloaded from the enterprise), `GET /api/orders` and
`GET /api/orders/{number}`.

The body is the order the MES sends to OPC UA `DownloadOrder` (docs/opcua.md) plus the
enterprise's order `number`, checked against the site file the same way (`parse_order`), then
taken by `ebr.orders.OrderBook`: the approved recipe is copied into the order as its control
recipe and the order's batch is made. The same order again answers 200 with the order already
taken; another order under that number, or for that product lot, is a 409. Only the accounts that
may call `DownloadOrder` (supervisor, engineer) may post orders; every user may read them.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from ebr.audit.actor import Actor
from ebr.errors import NotFoundError, StoreError
from ebr.orders import OrderBook, OrderRequest, PackagingOrder
from ebr.recipes.errors import OrderConflictError, OrderError, RecipeError, RecipeNotApprovedError
from ebr.recipes.models import MAX_ORDER_NUMBER_LENGTH
from ebr.users import Session
from gateway.api.auth import current_user
from gateway.api.context import ApiContext, api_context
from gateway.api.problems import ApiProblemError, from_store_error, problem_responses
from gateway.opcua_server import WRITE_ROLES
from gateway.opcua_server.order_json import OrderError as OrderJsonError
from gateway.opcua_server.order_json import parse_order

router = APIRouter(prefix="/api/orders", tags=["orders"])
MAX_LISTED: Final = 1000
BODY_FIELD: Final = {
    "product_id": "product",
    "line_id": "line",
    "quantity": "planned_quantity",
}
"""The body's name of each `OrderRequest` field that is named differently."""


class OrderDownload(BaseModel):
    """An order as the enterprise sends it to OPC UA `DownloadOrder`, with its number."""

    model_config = ConfigDict(extra="forbid")

    number: StrictStr = Field(
        min_length=1,
        max_length=MAX_ORDER_NUMBER_LENGTH,
        description="the enterprise's order number; sending it again is idempotent",
    )
    product: StrictStr = Field(description="a product id of the site file")
    lot: StrictStr = Field(description="1-20 printable characters, no spaces")
    line: StrictStr = Field(description="a line of the site file that runs the product")
    planned_quantity: StrictInt = Field(description="units to pack, 1 to 100,000,000")
    production_date: date | None = Field(default=None, description="default: today at the site")
    expiry: date | None = Field(
        default=None, description="default: from the product's shelf life in the site file"
    )


class Level(BaseModel):
    level: str
    quantity: int | None = Field(description="how many of the level below one holds")
    coding_rule: str


class RecipeRef(BaseModel):
    id: str
    version: int
    sha256: str = Field(description="SHA-256 of the control recipe's canonical JSON")


class OrderSummary(BaseModel):
    number: str
    source: str = Field(description="download or manual")
    status: str = Field(description="awaiting_signature, accepted or ready")
    product: str
    line: str
    lot: str
    expiry: date | None
    production_date: date
    planned_quantity: int
    levels: list[Level]
    recipe: RecipeRef | None = Field(description="the control recipe's origin; None: no recipe")
    control_recipe_intact: bool = Field(description="the stored copy still has its hash")
    batch_id: int | None
    created_at: datetime
    created_by: str | None


class OrderDetail(OrderSummary):
    control_recipe: dict[str, Any] | None = Field(
        description="the approved recipe content copied into the order when it was taken"
    )


POST_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    200: {"model": OrderDetail, "description": "the same order, taken before"},
    **problem_responses(401, 403, 404, 409, 422),
}


@router.post(
    "",
    status_code=201,
    response_model=OrderDetail,
    responses=POST_RESPONSES,
    summary="Take a packaging order from the enterprise and make its batch",
)
def post_order(
    body: OrderDownload,
    response: Response,
    context: Annotated[ApiContext, Depends(api_context)],
    user: Annotated[Session, Depends(current_user)],
) -> OrderDetail:
    if user.role not in WRITE_ROLES:
        raise ApiProblemError(
            403,
            "Not allowed",
            f"{user.username} ({user.role.value}) may not download orders",
            where="Authorization header",
            fix="send orders with the enterprise's supervisor or engineer account",
        )
    config = context.config
    fields = body.model_dump(mode="json", exclude={"number"}, exclude_none=True)
    try:
        order = parse_order(
            json.dumps(fields), config, datetime.now(UTC).astimezone(config.zone).date()
        )
    except OrderJsonError as error:
        raise ApiProblemError(
            404 if error.unknown else 422,
            "Not found" if error.unknown else "Request cannot be carried out",
            error.message,
            where=f"body.{error.field}" if error.field else "body",
            fix="correct the field named and send the order again",
        ) from None
    book = OrderBook(context.store.engine, audit=context.store.audit)
    request = OrderRequest(
        number=body.number,
        product_id=order.product,
        line_id=order.line,
        lot=order.lot,
        quantity=order.planned_quantity,
        production_date=order.production_date,
        expiry=order.expiry,
    )
    try:
        before = _known(book, body.number)
        taken = book.download(request, Actor(user.user_id, user.username))
    except (OrderConflictError, RecipeNotApprovedError) as error:
        raise ApiProblemError(
            409,
            "Conflict with the records' state",
            error.message,
            where=_where(error.field),
            fix=error.hint or "correct the order and send it again",
        ) from None
    except (OrderError, RecipeError) as error:
        raise from_store_error(error, where=_where(error.field)) from None
    if before:
        response.status_code = 200
    return _detail(taken)


@router.get(
    "",
    response_model=list[OrderSummary],
    responses=problem_responses(401, 422),
    summary="The most recent packaging orders first",
)
def get_orders(
    context: Annotated[ApiContext, Depends(api_context)],
    _user: Annotated[Session, Depends(current_user)],
    limit: Annotated[int, Query(ge=1, le=MAX_LISTED)] = 100,
) -> list[OrderSummary]:
    book = OrderBook(context.store.engine, audit=context.store.audit)
    return [_summary(order) for order in book.orders(limit=limit)]


@router.get(
    "/{number:path}",
    response_model=OrderDetail,
    responses=problem_responses(401, 404),
    summary="One packaging order with its control recipe",
)
def get_order(
    number: str,
    context: Annotated[ApiContext, Depends(api_context)],
    _user: Annotated[Session, Depends(current_user)],
) -> OrderDetail:
    book = OrderBook(context.store.engine, audit=context.store.audit)
    try:
        return _detail(book.order(number))
    except StoreError as error:
        raise from_store_error(error, where="path.number") from None


def _known(book: OrderBook, number: str) -> bool:
    try:
        book.order(number)
    except NotFoundError:
        return False
    return True


def _where(field: str) -> str:
    return f"body.{BODY_FIELD.get(field, field)}" if field else "body"


def _summary(order: PackagingOrder) -> OrderSummary:
    return OrderSummary(**_fields(order))


def _detail(order: PackagingOrder) -> OrderDetail:
    recipe = None if order.control_recipe is None else order.control_recipe.to_dict()
    return OrderDetail(**_fields(order), control_recipe=recipe)


def _fields(order: PackagingOrder) -> dict[str, Any]:
    recipe = None
    if order.recipe_id is not None and order.recipe_version is not None:
        recipe = RecipeRef(
            id=order.recipe_id,
            version=order.recipe_version,
            sha256=order.control_recipe_sha256 or "",
        )
    return {
        "number": order.number,
        "source": order.source,
        "status": order.status,
        "product": order.product_id,
        "line": order.line_id,
        "lot": order.lot,
        "expiry": order.expiry,
        "production_date": order.production_date,
        "planned_quantity": order.quantity,
        "levels": [
            Level(level=lv.level.value, quantity=lv.quantity, coding_rule=lv.coding_rule)
            for lv in order.levels
        ],
        "recipe": recipe,
        "control_recipe_intact": order.control_recipe_intact,
        "batch_id": order.batch_id,
        "created_at": order.created_at,
        "created_by": order.created_by,
    }
