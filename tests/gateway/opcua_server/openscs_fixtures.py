"""A real asyncua server with the OPEN-SCS pool manager installed, and a real client on it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from asyncua import Client, Server, ua
from sqlalchemy import Engine

from gateway.opcua_server.openscs import CallerLookup, OpenScsHandle, install_openscs
from gateway.opcua_server.openscs_model import (
    NAMESPACE_URI,
    KeyValues,
    OpenScsSettings,
    SnCollection,
)
from gateway.opcua_server.openscs_types import OpenScsTypes, read_return_status
from simulators.ports import free_port


async def stop_server(server: Server) -> None:
    """Stop, ending asyncua's once-a-second clock task now rather than after its sleep."""
    task = server.iserver.time_task
    server.iserver.time_task = None
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await server.stop()


@dataclass
class Session:
    """A client session on the pool manager, with the structures loaded from the server."""

    client: Client
    types: OpenScsTypes
    manager: Any
    instance_ns: int

    async def call(self, method: str, *args: ua.Variant) -> ua.CallMethodResult:
        request = ua.CallMethodRequest(
            ObjectId=self.manager.nodeid,
            MethodId=ua.NodeId(f"OpenSCS.PoolManager.{method}", self.instance_ns),
            InputArguments=list(args),
        )
        (result,) = await self.client.uaclient.call([request])
        return result

    async def push(
        self,
        serials: Sequence[str],
        criteria: KeyValues,
        fmt: str = "SERIALONLY",
        cid: str = "c1",
        pool: str = "",
        method: str = "SNtoUnallocated",
    ) -> ua.CallMethodResult:
        collection = SnCollection(id=cid, state=1, pool_id=pool, serial_numbers=tuple(serials))
        return await self.call(
            method,
            self.types.variant(self.types.sn_collection(collection)),
            self.types.variant(self.types.key_values(criteria)),
            ua.Variant(fmt, ua.VariantType.String),
        )

    async def request(
        self,
        method: str,
        count: int,
        criteria: KeyValues,
        token: str = "",
        fmt: str = "SERIALONLY",
        collection_id: str = "",
    ) -> ua.CallMethodResult:
        return await self.call(
            method,
            ua.Variant(collection_id, ua.VariantType.String),
            ua.Variant(count, ua.VariantType.UInt32),
            ua.Variant(fmt, ua.VariantType.String),
            self.types.variant(self.types.key_values(criteria)),
            ua.Variant(token, ua.VariantType.String),
        )


def status_of(result: ua.CallMethodResult) -> int:
    return int(read_return_status(result.OutputArguments[0]))


def message_of(result: ua.CallMethodResult) -> str:
    return " | ".join(
        info.AdditionalInfo for info in result.InputArgumentDiagnosticInfos if info.AdditionalInfo
    )


@contextlib.asynccontextmanager
async def openscs_gateway(
    engine: Engine,
    *,
    settings: OpenScsSettings | None = None,
    caller: CallerLookup | None = None,
) -> AsyncIterator[tuple[OpenScsHandle, Session]]:
    """The pool manager on a fresh server over `engine`, and a client session on it."""
    port = free_port()
    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}")
    handle = await install_openscs(server, engine=engine, settings=settings, caller=caller)
    await server.start()
    try:
        async with Client(f"opc.tcp://127.0.0.1:{port}") as client:
            await client.load_data_type_definitions()
            ns = await client.get_namespace_index(NAMESPACE_URI)
            instance = await client.get_namespace_index("urn:tracegate:gateway:openscs")
            manager = client.get_node(ua.NodeId("OpenSCS.PoolManager", instance))
            yield handle, Session(client, OpenScsTypes(ns), manager, instance)
    finally:
        await stop_server(server)
