"""OPC UA `DownloadOrder` takes a packaging order through `ebr.orders`: the order gets the
approved recipe as its control recipe; a product whose recipe is not approved is refused with
BadInvalidState, and nothing is made."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from asyncua.ua.status_codes import StatusCodes

from ebr.orders import OrderBook
from ebr.users import Role
from gateway.opcua_server.access import Caller
from gateway.opcua_server.calls import MethodCallError
from gateway.opcua_server.orders import OrdersService
from tests.ebr.trace_fixtures import PASSWORD
from tests.gateway.order_site import AMOX_RECIPE, OrderSite, order_site

ORDER = {"product": "amox", "lot": "L9", "line": "line-1", "planned_quantity": 100}
MES = Caller("mes", user_id=5, role=Role.ENGINEER)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[OrderSite]:
    made = order_site(tmp_path)
    yield made
    made.store.close()


async def test_download_order_takes_the_approved_recipe_or_refuses_without_one(
    site: OrderSite,
) -> None:
    service = OrdersService(site.config, site.store.engine, audit=site.store.audit)
    site.recipes().create(
        site.users.login("sup1", PASSWORD),
        recipe_id="amox-pack",
        product_id="amox",
        name="Amoxicillin",
        content=AMOX_RECIPE,
    )
    with pytest.raises(MethodCallError) as refused:
        await service.download_order(MES, [json.dumps(ORDER)])
    assert refused.value.status == StatusCodes.BadInvalidState
    assert "no approved version" in refused.value.message
    book = OrderBook(site.store.engine)
    assert book.orders() == []

    recipes = site.recipes()
    sup = site.users.login("sup1", PASSWORD)
    recipes.sign_as_author(sup, "amox-pack", 1, password=PASSWORD, username="sup1")
    qa = site.users.login("qa1", PASSWORD)
    recipes.approve(qa, "amox-pack", 1, password=PASSWORD, username="qa1")
    (batch_id,) = await service.download_order(MES, [json.dumps(ORDER)])

    order = book.order("amox:L9")
    assert (order.batch_id, order.recipe_version, order.created_by) == (batch_id, 1, "mes")
    assert order.control_recipe_sha256 == recipes.version("amox-pack", 1).content_sha256
