"""POST /api/orders, GET /api/orders and GET /api/orders/{number}: an order from the enterprise
becomes a packaging order with its control recipe and batch, once; what is refused is a
problem and writes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from ebr.catalog import batch_info
from ebr.models import Batch
from ebr.recipes.models import PackagingOrderRow
from gateway.api import create_app
from tests.ebr.trace_fixtures import PASSWORD
from tests.gateway.api.api_fixtures import assert_problem
from tests.gateway.order_site import AMOX_RECIPE, OrderSite, order_site

MES = ("mes", PASSWORD)
ORDER: dict[str, Any] = {
    "number": "PO-4711",
    "product": "amox",
    "lot": "L261122A",
    "line": "line-1",
    "planned_quantity": 1000,
    "production_date": "2026-11-20",
    "expiry": "2028-11-30",
}


@pytest.fixture
def site(tmp_path: Path) -> Iterator[OrderSite]:
    made = order_site(tmp_path)
    yield made
    made.store.close()


@pytest.fixture
async def client(site: OrderSite) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(site.config, site.store, users=site.users)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        yield http


def _count(site: OrderSite, table: Any) -> int:
    with site.store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


async def test_an_order_from_the_enterprise_is_taken_once_with_its_control_recipe(
    client: httpx.AsyncClient, site: OrderSite
) -> None:
    site.approve_recipe()

    created = await client.post("/api/orders", json=ORDER, auth=MES)

    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["status"], body["source"], body["created_by"]) == ("ready", "download", "mes")
    assert body["recipe"]["id"] == "amox-pack"
    assert body["recipe"]["version"] == 1
    assert body["control_recipe"]["yield_limits"] == {"low_pct": "98.5", "high_pct": "100"}
    assert body["control_recipe_intact"] is True
    assert [lv["level"] for lv in body["levels"]] == ["unit", "case", "pallet"]
    batch = batch_info(site.store.engine, body["batch_id"])
    assert batch is not None
    assert (batch.lot, batch.status) == ("L261122A", "downloaded")

    again = await client.post("/api/orders", json=dict(reversed(ORDER.items())), auth=MES)
    assert again.status_code == 200, again.text
    assert again.json() == body
    conflict = await client.post("/api/orders", json={**ORDER, "planned_quantity": 5}, auth=MES)
    assert_problem(conflict, 409, "quantity 1000 (this order: 5)", "body.planned_quantity")
    same_lot = await client.post("/api/orders", json={**ORDER, "number": "PO-2"}, auth=MES)
    assert_problem(same_lot, 409, "is order 'PO-4711' already")

    listed = await client.get("/api/orders", auth=("op1", PASSWORD))
    assert [o["number"] for o in listed.json()] == ["PO-4711"]
    assert "control_recipe" not in listed.json()[0]
    one = await client.get("/api/orders/PO-4711", auth=("op1", PASSWORD))
    assert one.json() == body
    assert_problem(await client.get("/api/orders/PO-9", auth=MES), 404, "unknown packaging order")
    assert (_count(site, PackagingOrderRow), _count(site, Batch)) == (1, 1)


async def test_refused_orders_are_problems_and_write_nothing(
    client: httpx.AsyncClient, site: OrderSite
) -> None:
    site.recipes().create(
        site.users.login("sup1", PASSWORD),
        recipe_id="amox-pack",
        product_id="amox",
        name="Amoxicillin",
        content=AMOX_RECIPE,
    )
    unapproved = await client.post("/api/orders", json=ORDER, auth=MES)
    assert_problem(unapproved, 409, "no approved version", "tracegate recipe approve")
    assert_problem(await client.post("/api/orders", json=ORDER, auth=("op1", PASSWORD)), 403)
    assert_problem(await client.post("/api/orders", json=ORDER), 401)
    for changes, status, where, words in (
        ({"product": "aspirin"}, 404, "body.product", "not in the site file"),
        ({"line": "line-9"}, 404, "body.line", "not in the site file"),
        ({"planned_quantity": 0}, 422, "body.planned_quantity", "between 1 and"),
        ({"planned_quantity": "10"}, 422, "body.planned_quantity", "integer"),
        ({"lot": "L" * 21}, 422, "body.lot", "1-20 printable"),
        ({"lot": "L#1"}, 422, "body.lot", "cannot be coded"),
        ({"expiry": "2026-11-01"}, 422, "body.expiry", "not after its production_date"),
        ({"number": ""}, 422, "body.number", "at least 1 character"),
        ({"colour": "red"}, 422, "body.colour", "Extra inputs"),
    ):
        refused = await client.post("/api/orders", json={**ORDER, **changes}, auth=MES)
        problem = assert_problem(refused, status, words)
        assert problem["where"] == where, problem
    assert (_count(site, PackagingOrderRow), _count(site, Batch)) == (0, 0)
    paths = (await client.get("/api/openapi.json")).json()["paths"]
    assert {"200", "201", "403", "409", "422"} <= set(paths["/api/orders"]["post"]["responses"])
    assert "404" in paths["/api/orders/{number}"]["get"]["responses"]
