"""A store with a batch, its journal and gateway accounts; the gateway's OPC UA server on it; a
real asyncua client calling the Records methods as an MES would."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asyncua import Client, ua
from sqlalchemy import Engine

from ebr.allocation import CodeAllocator
from ebr.audit.trail import AuditTrail
from ebr.journal import EventKind, Journal, JournalEvent, JournalRejectedError
from ebr.users import Role, Users
from gateway.opcua_server import (
    DeviceModel,
    GatewayOpcUaServer,
    LineModel,
    ServerSettings,
    SiteModel,
)
from serialization.rules import PackagingLevel
from simulators.ports import free_port
from tests.ebr.audit.audit_fixtures import FAST_HASHER
from tests.ebr.fixtures_master import MASTER_KEY, install_master_data, open_batch

SITE = SiteModel(
    "plant-1",
    "Demo Pharma",
    "9501101000001",
    (LineModel("line-1", "Line 1", (DeviceModel("plc-1", "line-plc"),)),),
)
MES = "mes"
OPERATOR = "op"
PASSWORD = "Pull-records-2026-ok"


@dataclass
class Plant:
    engine: Engine
    users: Users
    journal: Journal
    batch: int
    units: list[str] = field(default_factory=list)
    cases: list[str] = field(default_factory=list)

    def commission(self, keys: Sequence[str], chunk: int = 10_000) -> None:
        """Issue and accept `keys` in big journal transactions."""
        for start in range(0, len(keys), chunk):
            part = keys[start : start + chunk]
            written = self.journal.append_many(
                [JournalEvent(self.batch, EventKind.UNIT_ISSUED, code_key=k) for k in part]
                + [JournalEvent(self.batch, EventKind.UNIT_ACCEPTED, code_key=k) for k in part]
            )
            refused = [r for r in written if isinstance(r, JournalRejectedError)]
            assert not refused, refused[:3]

    def append(self, *events: JournalEvent) -> None:
        written = self.journal.append_many(events)
        refused = [r for r in written if isinstance(r, JournalRejectedError)]
        assert not refused, refused


def make_plant(engine: Engine, *, units: int = 30, cases: int = 2) -> Plant:
    install_master_data(engine)
    batch = open_batch(engine, "amox")
    allocator = CodeAllocator(engine, master_key=MASTER_KEY)
    users = Users(AuditTrail(engine), hasher=FAST_HASHER)
    admin_password = "Boot-first-2026-key"
    users.bootstrap_administrator("admin", "Administrator", admin_password)
    admin = users.login("admin", admin_password)
    for name, role in ((MES, Role.ENGINEER), (OPERATOR, Role.OPERATOR)):
        users.create(admin, username=name, full_name=name, role=role, password=PASSWORD + "0")
        users.change_password(name, PASSWORD + "0", PASSWORD)
    return Plant(
        engine=engine,
        users=users,
        journal=Journal(engine),
        batch=batch,
        units=[c.key for c in allocator.allocate("line-1", batch, units)],
        cases=[c.key for c in allocator.allocate("line-1", batch, cases, level=PackagingLevel.CASE)]
        if cases
        else [],
    )


def settings(**changes: Any) -> ServerSettings:
    base: dict[str, Any] = {
        "site_id": SITE.id,
        "endpoint": f"opc.tcp://127.0.0.1:{free_port()}",
        "min_publishing_interval_ms": 50.0,
    }
    return ServerSettings(**{**base, **changes})


@contextlib.asynccontextmanager
async def serving(
    plant: Plant, server_settings: ServerSettings | None = None
) -> AsyncIterator[GatewayOpcUaServer]:
    server = GatewayOpcUaServer(server_settings or settings(), SITE, plant.engine, plant.users)
    async with server:
        yield server


@dataclass
class Mes:
    """A client of the Records object, as the MES."""

    client: Client
    ns: int

    def node(self, path: str) -> Any:
        return self.client.get_node(ua.NodeId(path, self.ns))

    async def call(self, method: str, *args: ua.Variant) -> ua.CallMethodResult:
        request = ua.CallMethodRequest(
            ObjectId=ua.NodeId("Site.Records", self.ns),
            MethodId=ua.NodeId(f"Site.Records.{method}", self.ns),
            InputArguments=list(args),
        )
        (result,) = await self.client.uaclient.call([request])
        return result

    async def get_records(self, since: int, max_count: int = 0) -> tuple[list[Any], int, bool]:
        result = await self.call(
            "GetRecords",
            ua.Variant(since, ua.VariantType.Int64),
            ua.Variant(max_count, ua.VariantType.UInt32),
        )
        result.StatusCode.check()
        records, last, more = (v.Value for v in result.OutputArguments)
        return [json.loads(r) for r in records or []], last, more

    async def acknowledge(self, sequence: int, consumer: str = MES) -> int:
        result = await self.call(
            "Acknowledge",
            ua.Variant(consumer, ua.VariantType.String),
            ua.Variant(sequence, ua.VariantType.Int64),
        )
        result.StatusCode.check()
        return int(result.OutputArguments[0].Value)

    async def json_of(self, method: str, argument: ua.Variant) -> Any:
        result = await self.call(method, argument)
        result.StatusCode.check()
        return json.loads(result.OutputArguments[0].Value)


def message_of(result: ua.CallMethodResult) -> str:
    return " | ".join(
        info.AdditionalInfo for info in result.InputArgumentDiagnosticInfos if info.AdditionalInfo
    )


@contextlib.asynccontextmanager
async def mes_client(
    endpoint: str,
    *,
    user: str | None = MES,
    password: str = PASSWORD,
    certificate: Path | None = None,
    private_key: Path | None = None,
    security: str | None = None,
    application_uri: str = "urn:test:mes",
    timeout: float = 10,
) -> AsyncIterator[Mes]:
    client = Client(endpoint, timeout=timeout)
    client.application_uri = application_uri
    if user is not None:
        client.set_user(user)
        client.set_password(password)
    if security is not None:
        assert certificate is not None
        assert private_key is not None
        await client.set_security_string(f"{security},{certificate},{private_key}")
    async with client:
        ns = await client.get_namespace_index(f"urn:tracegate:{SITE.id}")
        yield Mes(client, ns)
