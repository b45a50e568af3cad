"""Downward methods with real clients on the site's server: orders become audited batches,
product master data is held against the site file, and only write roles may call them."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from asyncua import ua
from asyncua.ua.status_codes import StatusCodes
from sqlalchemy import Engine, func, select

from config import SiteConfig
from ebr.audit.trail import AuditTrail
from ebr.catalog import batch_info
from ebr.models import Batch
from ebr.users import Role, Users
from gateway.opcua_server.site_server import site_server
from gateway.site_store import SiteStore, sync_site
from simulators.ports import free_port
from tests.ebr.audit.audit_fixtures import FAST_HASHER
from tests.gateway.opcua_server.mes_fixtures import MES, OPERATOR, PASSWORD, Mes, message_of
from tests.gateway.opcua_server.mes_fixtures import mes_client as _client

DEMO = Path(__file__).parents[3] / "config" / "examples" / "demo.yaml"
AMOX = "amox-250-24"
ORDER: dict[str, Any] = {
    "product": AMOX,
    "lot": "L261122A",
    "line": "line-1",
    "planned_quantity": 1000,
}


def site_config(tmp_path: Path) -> SiteConfig:
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    data["site"]["id"] = "plant-1"
    data["opcua_server"] = {
        "endpoint": f"opc.tcp://127.0.0.1:{free_port()}",
        "security": [{"policy": "None"}],
        "allow_anonymous": True,
        "trust_dir": str(tmp_path / "trusted"),
        "rejected_dir": str(tmp_path / "rejected"),
        "min_publishing_interval_ms": 50.0,
    }
    data["lines"].append({"id": "line-2", "name": "Line 2", "products": [AMOX]})
    return SiteConfig.model_validate(data)


def make_store(engine: Engine, config: SiteConfig) -> SiteStore:
    audit = AuditTrail(engine)
    sync_site(config, engine, audit)
    users = Users(audit, hasher=FAST_HASHER)
    users.bootstrap_administrator("admin", "Administrator", "Boot-first-2026-key")
    admin = users.login("admin", "Boot-first-2026-key")
    for name, role in ((MES, Role.ENGINEER), (OPERATOR, Role.OPERATOR)):
        users.create(admin, username=name, full_name=name, role=role, password=PASSWORD + "0")
        users.change_password(name, PASSWORD + "0", PASSWORD)
    return SiteStore(config, engine, None, audit)


@contextlib.asynccontextmanager
async def serving(engine: Engine, tmp_path: Path) -> AsyncIterator[tuple[SiteStore, str]]:
    """The site's own server, as `tracegate opcua serve` runs it."""
    store = make_store(engine, site_config(tmp_path))
    async with site_server(store.config, store) as server:
        yield store, server.endpoint


async def call(mes: Mes, method: str, payload: Any) -> ua.CallMethodResult:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    request = ua.CallMethodRequest(
        ObjectId=ua.NodeId("Site.Orders", mes.ns),
        MethodId=ua.NodeId(f"Site.Orders.{method}", mes.ns),
        InputArguments=[ua.Variant(text, ua.VariantType.String)],
    )
    (result,) = await mes.client.uaclient.call([request])
    return result


def batches(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Batch)).scalar_one())


async def test_an_order_becomes_a_batch_audited_as_the_mes_account_once(
    engine: Engine, tmp_path: Path
) -> None:
    async with serving(engine, tmp_path) as (store, endpoint), _client(endpoint) as mes:
        first = await call(mes, "DownloadOrder", ORDER)
        first.StatusCode.check()
        batch_id = first.OutputArguments[0].Value
        again = await call(mes, "DownloadOrder", dict(reversed(ORDER.items())))
        again.StatusCode.check()
        assert again.OutputArguments[0].Value == batch_id
        given = {**ORDER, "lot": "L2", "expiry": "2027-05-31", "production_date": "2026-11-20"}
        explicit = await call(mes, "DownloadOrder", given)
        explicit.StatusCode.check()
        conflicting = await call(mes, "DownloadOrder", {**ORDER, "planned_quantity": 999})
        assert conflicting.StatusCode.value == StatusCodes.BadEntryExists
        assert "planned_quantity" in message_of(conflicting)
        assert f"batch {batch_id}" in message_of(conflicting)

    info = batch_info(engine, batch_id)
    assert info is not None
    assert (info.product_id, info.lot, info.line_id, info.status) == (
        AMOX,
        "L261122A",
        "line-1",
        "downloaded",
    )
    today = datetime.now(UTC).astimezone(store.config.zone).date()
    assert info.expiry == store.config.expiry_for(AMOX, today), "shelf life from today"
    second = batch_info(engine, explicit.OutputArguments[0].Value)
    assert second is not None
    assert second.expiry == date(2027, 5, 31)
    created = store.audit.entries(event="batch.created")
    assert [(e.object_id, e.username, e.action) for e in created] == [
        (str(batch_id), MES, "create"),
        (str(second.id), MES, "create"),
    ]
    assert created[0].user_id is not None
    assert batches(engine) == 2


BAD_ORDERS: list[tuple[Any, int, str]] = [
    ({**ORDER, "product": "aspirin"}, StatusCodes.BadNotFound, "field product"),
    ({**ORDER, "line": "line-9"}, StatusCodes.BadNotFound, "field line"),
    (
        {**ORDER, "product": "ibu-300-20", "line": "line-2"},
        StatusCodes.BadInvalidArgument,
        "may not run product",
    ),
    ({**ORDER, "planned_quantity": 0}, StatusCodes.BadInvalidArgument, "field planned_quantity"),
    ({**ORDER, "planned_quantity": -5}, StatusCodes.BadInvalidArgument, "field planned_quantity"),
    ({**ORDER, "planned_quantity": "10"}, StatusCodes.BadInvalidArgument, "planned_quantity"),
    ({**ORDER, "planned_quantity": True}, StatusCodes.BadInvalidArgument, "planned_quantity"),
    ({**ORDER, "expiry": "2027-13-01"}, StatusCodes.BadInvalidArgument, "field expiry"),
    ({**ORDER, "expiry": "31.05.2027"}, StatusCodes.BadInvalidArgument, "YYYY-MM-DD"),
    ({**ORDER, "expiry": "2026-01-31"}, StatusCodes.BadInvalidArgument, "field expiry"),
    (
        {**ORDER, "expiry": "2027-05-31", "production_date": "2027-06-01"},
        StatusCodes.BadInvalidArgument,
        "not after its production_date",
    ),
    ({**ORDER, "production_date": 20261122}, StatusCodes.BadInvalidArgument, "production_date"),
    ({**ORDER, "qty": 5}, StatusCodes.BadInvalidArgument, "field qty"),
    ({k: v for k, v in ORDER.items() if k != "lot"}, StatusCodes.BadInvalidArgument, "field lot"),
    ({**ORDER, "lot": "L 1"}, StatusCodes.BadInvalidArgument, "field lot"),
    ({**ORDER, "lot": "L" * 21}, StatusCodes.BadInvalidArgument, "field lot"),
    ({**ORDER, "lot": ""}, StatusCodes.BadInvalidArgument, "field lot"),
    ({**ORDER, "lot": "L#1"}, StatusCodes.BadInvalidArgument, "field lot"),
    ("{not json", StatusCodes.BadInvalidArgument, "not JSON"),
    ("[1, 2]", StatusCodes.BadInvalidArgument, "JSON object"),
]


async def test_every_bad_order_field_is_refused_by_name_and_nothing_is_created(
    engine: Engine, tmp_path: Path
) -> None:
    async with serving(engine, tmp_path) as (_store, endpoint), _client(endpoint) as mes:
        for payload, status, text in BAD_ORDERS:
            result = await call(mes, "DownloadOrder", payload)
            assert result.StatusCode.value == status, (payload, message_of(result))
            assert result.InputArgumentResults[0].value == status
            assert text in message_of(result), (payload, message_of(result))
        request = ua.CallMethodRequest(
            ObjectId=ua.NodeId("Site.Orders", mes.ns),
            MethodId=ua.NodeId("Site.Orders.DownloadOrder", mes.ns),
            InputArguments=[ua.Variant(7, ua.VariantType.Int64)],
        )
        (mismatch,) = await mes.client.uaclient.call([request])
        assert mismatch.StatusCode.value == StatusCodes.BadTypeMismatch
    assert batches(engine) == 0


@pytest.mark.parametrize("user", [OPERATOR, None], ids=["operator", "anonymous"])
async def test_only_write_roles_may_call_the_downward_methods(
    engine: Engine, tmp_path: Path, user: str | None
) -> None:
    async with serving(engine, tmp_path) as (_store, endpoint), _client(endpoint, user=user) as mes:
        for method, payload in (("DownloadOrder", ORDER), ("UpdateProduct", {"id": AMOX})):
            result = await call(mes, method, payload)
            assert result.StatusCode.value == StatusCodes.BadUserAccessDenied, method
    assert batches(engine) == 0


async def test_product_master_data_from_the_mes_is_held_against_the_site_file(
    engine: Engine, tmp_path: Path
) -> None:
    async with serving(engine, tmp_path) as (_store, endpoint), _client(endpoint) as mes:
        same = {"id": AMOX, "gtin": "9501101530003", "nmpa_drug_id": None}
        agreed = await call(mes, "UpdateProduct", same)
        agreed.StatusCode.check()
        assert agreed.OutputArguments[0].Value is True
        differs = await call(mes, "UpdateProduct", {"id": AMOX, "gtin": "09501101530010"})
        assert differs.StatusCode.value == StatusCodes.BadInvalidArgument
        assert "field gtin" in message_of(differs)
        assert "change it there" in message_of(differs)
        unknown = await call(mes, "UpdateProduct", {"id": "aspirin", "name": "Aspirin"})
        assert unknown.StatusCode.value == StatusCodes.BadNotFound
        assert "not in the site file" in message_of(unknown)
        misspelt = await call(mes, "UpdateProduct", {"id": AMOX, "gtn": "1"})
        assert misspelt.StatusCode.value == StatusCodes.BadInvalidArgument
        assert "field gtn" in message_of(misspelt)
