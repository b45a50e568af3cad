"""An L4 serial number manager for the uplink tests: a real asyncua server with the OPEN-SCS
nodeset, a pool manager, an event manager and an aggregation manager whose methods are small
test implementations (its own request token format, MaxEvents, refusals on demand)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from asyncua import Server, ua

from gateway.opcua_server.openscs_model import ReturnStatus, SnCollection, TypeId
from gateway.opcua_server.openscs_nodeset import load_openscs_nodeset
from gateway.opcua_server.openscs_types import (
    OpenScsTypes,
    plain,
    read_aggregation,
    read_key_values,
    read_label_collection,
    read_sn_collection,
)
from simulators.ports import free_port
from tests.gateway.opcua_server.openscs_fixtures import stop_server

EVENT_METHODS = (
    "SIDCommissioningEvent",
    "LabelsScrappingEvent",
    "SIDDestroyingEvent",
    "SNInvalidatingEvent",
)
AGGREGATION_METHODS = ("AggregationPackingEvent", "AggregationUnpackingEvent")


@dataclass
class L4:
    endpoint: str
    pool: list[str]
    page_size: int
    calls: list[tuple[str, Any]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    served: list[str] = field(default_factory=list)
    types: OpenScsTypes | None = None

    def received(self, method: str) -> list[Any]:
        return [argument for name, argument in self.calls if name == method]

    async def request_unallocated(self, _parent: ua.NodeId, *args: Any) -> list[ua.Variant]:
        assert self.types is not None
        _collection_id, count, fmt, criteria, token = (plain(a) for a in args)
        self.calls.append(("SNRequestUnallocated", (count, fmt, read_key_values(criteria, "c"))))
        offset = int(token.removeprefix("from-")) if token else 0
        if not token:
            self.served = self.pool[:count]
            del self.pool[:count]
        page = self.served[offset : offset + self.page_size]
        more = offset + self.page_size < len(self.served)
        status = (
            ReturnStatus.INSUFFICIENT_SERIAL_NUMBERS
            if not token and len(self.served) < count
            else ReturnStatus.NO_ERROR
        )
        collection = SnCollection(id="L4-pool", state=1, pool_id="L4", serial_numbers=tuple(page))
        return [
            ua.Variant(int(status), ua.VariantType.Int32),
            self.types.variant(self.types.sn_collection(collection)),
            ua.Variant(f"from-{offset + self.page_size}" if more else "", ua.VariantType.String),
        ]

    def event_method(self, name: str) -> Callable[..., Any]:
        async def call(_parent: ua.NodeId, collection: Any, fmt: Any, context: Any) -> list[Any]:
            if name in self.refuse:
                return [
                    ua.Variant(int(ReturnStatus.UNABLE_TO_ACCEPT_SID_EVENTS), ua.VariantType.Int32)
                ]
            read = read_sn_collection if name == "SNInvalidatingEvent" else read_label_collection
            received = (read(collection), plain(fmt), dict(read_key_values(context, "ctx")))
            self.calls.append((name, received))
            return [ua.Variant(int(ReturnStatus.NO_ERROR), ua.VariantType.Int32)]

        return call

    def aggregation_method(self, name: str) -> Callable[..., Any]:
        async def call(_parent: ua.NodeId, elements: Any, parent_fmt: Any, *rest: Any) -> list[Any]:
            aggregations = [read_aggregation(e) for e in plain(elements)]
            context = dict(read_key_values(rest[-1], "ctx"))
            self.calls.append((name, (aggregations, plain(parent_fmt), context)))
            return [ua.Variant(int(ReturnStatus.NO_ERROR), ua.VariantType.Int32)]

        return call


@contextlib.asynccontextmanager
async def running_l4(
    pool: list[str], *, page_size: int = 10, max_events: int = 7, max_aggregations: int = 2
) -> AsyncIterator[L4]:
    port = free_port()
    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}")
    ns = await load_openscs_nodeset(server)
    own = await server.register_namespace("urn:test:l4")
    l4 = L4(f"opc.tcp://127.0.0.1:{port}", list(pool), page_size, types=OpenScsTypes(ns))
    folder = await server.nodes.objects.add_folder(ua.NodeId("L4", own), "L4")
    managers = {}
    for name, type_id in (
        ("Pool", TypeId.POOL_MANAGER_TYPE),
        ("Events", TypeId.EVENT_MANAGER_TYPE),
        ("Aggregation", TypeId.AGGREGATION_MANAGER_TYPE),
    ):
        managers[name] = await folder.add_object(
            ua.NodeId(f"L4.{name}", own), ua.QualifiedName(name, own), ua.NodeId(int(type_id), ns)
        )

    async def link(manager: str, method: str, callback: Callable[..., Any]) -> None:
        node = await managers[manager].get_child(ua.QualifiedName(method, ns))
        server.link_method(node, callback)

    await link("Pool", "SNRequestUnallocated", l4.request_unallocated)
    for method in EVENT_METHODS:
        await link("Events", method, l4.event_method(method))
    for method in AGGREGATION_METHODS:
        await link("Aggregation", method, l4.aggregation_method(method))
    limits = (
        ("Events", "MaxEvents", max_events),
        ("Aggregation", "MaxAggregationEvents", max_aggregations),
    )
    for manager, prop, value in limits:
        node = await managers[manager].get_child(ua.QualifiedName(prop, ns))
        await node.write_value(ua.Variant(value, ua.VariantType.UInt32))
    await server.start()
    try:
        yield l4
    finally:
        await stop_server(server)
