"""A session on an L4 serial number manager that offers OPEN-SCS methods (the uplink option).

`L4Session.attach(client)` takes a connected asyncua `Client` (its endpoint, security and user
are the caller's business), loads the server's data type definitions and finds the L4's pool,
event and aggregation managers: the node ids given, or the first object of each OPEN-SCS type
within three levels below Objects.

- `request_serials` asks `SNRequestUnallocated` (or `SNRequestAllocated`) and follows
  `ReturnedRequestToken` until the L4 has sent everything.
- `report` calls one event or aggregation method.

An answer other than NoError (or InsufficientSerialNumbers for a request) raises
`L4RefusedError` with the L4's status and diagnostic text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asyncua import ua
from asyncua.client.client import Client
from asyncua.ua.uaerrors import UaStatusCodeError

from gateway.opcua_server.openscs_model import (
    NAMESPACE_URI,
    KeyValues,
    ReturnStatus,
    SnCollection,
    TypeId,
)
from gateway.opcua_server.openscs_types import (
    OpenScsTypes,
    numeric_id,
    read_return_status,
    read_sn_collection,
)

DISCOVERY_DEPTH = 3
MANAGER_TYPES = {
    "pool": TypeId.POOL_MANAGER_TYPE,
    "event": TypeId.EVENT_MANAGER_TYPE,
    "aggregation": TypeId.AGGREGATION_MANAGER_TYPE,
}

LIMIT_PROPERTIES = {"event": "MaxEvents", "aggregation": "MaxAggregationEvents"}


class L4RefusedError(RuntimeError):
    """The L4 refused a call, or answered something this client cannot use."""

    def __init__(self, method: str, message: str, *, status: ReturnStatus | None = None) -> None:
        super().__init__(f"L4 {method}: {message}")
        self.method = method
        self.status = status


@dataclass(frozen=True, slots=True)
class ReceivedSerials:
    status: ReturnStatus
    """NoError, or InsufficientSerialNumbers when the L4 had fewer than asked."""
    serial_numbers: tuple[str, ...]
    collection: SnCollection
    """The first page's collection header (ID, state, AssociatedPoolID)."""
    pages: int


class L4Session:
    def __init__(self, client: Client, types: OpenScsTypes, managers: dict[str, Any]) -> None:
        self._client = client
        self.types = types
        self._managers = managers
        self._methods: dict[str, tuple[ua.NodeId, ua.NodeId]] = {}

    @classmethod
    async def attach(
        cls,
        client: Client,
        *,
        pool_manager: str | None = None,
        event_manager: str | None = None,
        aggregation_manager: str | None = None,
    ) -> L4Session:
        await client.load_data_type_definitions()
        namespaces = await client.get_namespace_array()
        if NAMESPACE_URI not in namespaces:
            raise L4RefusedError("connect", f"the server has no OPEN-SCS namespace {NAMESPACE_URI}")
        ns = namespaces.index(NAMESPACE_URI)
        given = {"pool": pool_manager, "event": event_manager, "aggregation": aggregation_manager}
        managers = {kind: client.get_node(node) for kind, node in given.items() if node}
        wanted = {
            numeric_id(type_id, ns): kind
            for kind, type_id in MANAGER_TYPES.items()
            if kind not in managers
        }
        if wanted:
            managers.update(await _discover(client.nodes.objects, wanted))
        return cls(client, OpenScsTypes(ns), managers)

    def offers(self, kind: str) -> bool:
        return kind in self._managers

    async def request_serials(
        self,
        *,
        count: int,
        criteria: KeyValues,
        sn_format: str = "SERIALONLY",
        collection_id: str = "",
        method: str = "SNRequestUnallocated",
    ) -> ReceivedSerials:
        serials: list[str] = []
        token, first, pages, status = "", None, 0, ReturnStatus.NO_ERROR
        while True:
            outputs = await self._call(
                "pool",
                method,
                ua.Variant(collection_id, ua.VariantType.String),
                ua.Variant(count, ua.VariantType.UInt32),
                ua.Variant(sn_format, ua.VariantType.String),
                self.types.variant(self.types.key_values(criteria)),
                ua.Variant(token, ua.VariantType.String),
            )
            if len(outputs) != 3:
                raise L4RefusedError(method, f"{len(outputs)} output arguments instead of 3")
            page_status = read_return_status(outputs[0])
            if page_status not in (ReturnStatus.NO_ERROR, ReturnStatus.INSUFFICIENT_SERIAL_NUMBERS):
                raise L4RefusedError(method, f"ReturnStatus {page_status.name}", status=page_status)
            if page_status is ReturnStatus.INSUFFICIENT_SERIAL_NUMBERS:
                status = page_status
            collection = read_sn_collection(outputs[1])
            first = first or collection
            serials.extend(collection.serial_numbers)
            pages += 1
            token = str(outputs[2].Value or "") if isinstance(outputs[2], ua.Variant) else ""
            if not token:
                break
            if not collection.serial_numbers or len(serials) >= count:
                raise L4RefusedError(
                    method,
                    f"page {pages} ({len(collection.serial_numbers)} serial numbers, "
                    f"{len(serials)} of {count} so far) still asks for another page",
                )
        if len(serials) > count:
            raise L4RefusedError(method, f"sent {len(serials)} serial numbers, {count} were asked")
        assert first is not None
        return ReceivedSerials(status, tuple(serials), first, pages)

    async def limit(self, kind: str) -> int | None:
        """The L4's MaxEvents (event manager) or MaxAggregationEvents; None when not set."""
        name = LIMIT_PROPERTIES[kind]
        manager = self._managers.get(kind)
        if manager is None:
            return None
        try:
            node = await manager.get_child(ua.QualifiedName(name, self.types.namespace_index))
            value = await node.read_value()
        except UaStatusCodeError:
            return None
        return int(value) if isinstance(value, int) and value > 0 else None

    async def report(self, kind: str, method: str, *arguments: ua.Variant) -> ReturnStatus:
        """Call an event ("event") or aggregation ("aggregation") method; its ReturnStatus."""
        outputs = await self._call(kind, method, *arguments)
        if not outputs:
            raise L4RefusedError(method, "no ReturnStatus in the answer")
        return read_return_status(outputs[0])

    async def _call(self, kind: str, method: str, *arguments: ua.Variant) -> list[ua.Variant]:
        object_id, method_id = await self._method(kind, method)
        request = ua.CallMethodRequest(
            ObjectId=object_id, MethodId=method_id, InputArguments=list(arguments)
        )
        (result,) = await self._client.uaclient.call([request])
        if result.StatusCode.is_bad():
            raise L4RefusedError(
                method,
                f"{result.StatusCode.name}{_diagnostics(result.InputArgumentDiagnosticInfos)}",
            )
        return list(result.OutputArguments or [])

    async def _method(self, kind: str, method: str) -> tuple[ua.NodeId, ua.NodeId]:
        if method not in self._methods:
            manager = self._managers.get(kind)
            if manager is None:
                raise L4RefusedError(method, f"the L4 offers no OPEN-SCS {kind} manager")
            try:
                node = await manager.get_child(ua.QualifiedName(method, self.types.namespace_index))
            except UaStatusCodeError:
                raise L4RefusedError(method, f"the L4's {kind} manager has no {method}") from None
            self._methods[method] = (manager.nodeid, node.nodeid)
        return self._methods[method]


def _diagnostics(infos: Sequence[ua.DiagnosticInfo] | None) -> str:
    texts = [info.AdditionalInfo for info in infos or () if info and info.AdditionalInfo]
    return f": {'; '.join(texts)}" if texts else ""


async def _discover(root: Any, wanted: dict[ua.NodeId, str]) -> dict[str, Any]:
    """Objects of the wanted types below `root`, skipping the standard nodes (namespace 0)."""
    found: dict[str, Any] = {}
    level = [root]
    for _depth in range(DISCOVERY_DEPTH):
        children = []
        for node in level:
            for child in await node.get_children(nodeclassmask=ua.NodeClass.Object):
                if child.nodeid.NamespaceIndex == 0:
                    continue
                kind = wanted.get(await child.read_type_definition())
                if kind is not None and kind not in found:
                    found[kind] = child
                children.append(child)
        if len(found) == len(wanted) or not children:
            break
        level = children
    return found
