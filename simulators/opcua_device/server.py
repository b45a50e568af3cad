"""One simulated device as a small OPC UA server: its endpoint, security and one object.

A printer or a camera that speaks OPC UA is a server with one object (`Printer`, `Camera`)
holding the device's variables and methods under string NodeIds, `<object>.<name>`. This base
builds that server with the security a `PlcSecurity` asks for (the same endpoints and
certificates as the line PLC simulator, so a line runs secured end to end; sessions are
anonymous or by certificate, a device has no user names); subclasses add their nodes in
`build` and run their own scan in `scan`, every `tick_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from asyncua import ua
from asyncua.common.node import Node
from asyncua.server.server import Server

from simulators.line_plc.server import ENDPOINT_POLICIES, PlcSecurity
from simulators.serving import AsyncServer

log = logging.getLogger("tracegate.simulators.opcua_device")

Method = Callable[..., Awaitable[list[ua.Variant]]]


def argument(name: str, vtype: ua.VariantType, description: str = "") -> ua.Argument:
    made = ua.Argument()
    made.Name = name
    made.DataType = ua.NodeId.from_string(f"i={vtype.value}")
    made.ValueRank = -1
    made.Description = ua.LocalizedText(description or name)
    return made


def plain(value: Any) -> Any:
    """A method argument's value, whether asyncua hands over a Variant or the value."""
    return value.Value if isinstance(value, ua.Variant) else value


class OpcUaDeviceServer(AsyncServer):
    """The server of one device; `root` is the NodeId of its object once started."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        object_name: str,
        namespace_uri: str,
        server_name: str,
        security: PlcSecurity | None = None,
        tick_s: float = 0.02,
    ) -> None:
        self.endpoint = f"opc.tcp://{host}:{port}"
        self.security = security or PlcSecurity()
        self._object_name = object_name
        self._namespace_uri = namespace_uri
        self._server_name = server_name
        self._tick_s = tick_s
        self._ns = 0
        self._server: Server | None = None
        self._object: Node | None = None
        self._types: dict[str, ua.VariantType] = {}
        self._nodes: dict[str, ua.NodeId] = {}
        self._shown: dict[str, Any] = {}
        self._task: asyncio.Task[None] | None = None

    @property
    def root(self) -> str:
        """NodeId of the device object, e.g. `ns=1;s=Printer`."""
        return f"ns={self._ns};s={self._object_name}"

    def node_id(self, name: str) -> str:
        return f"{self.root}.{name}"

    # --- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        server = Server()
        await server.init()
        server.set_endpoint(self.endpoint)
        server.set_server_name(self._server_name)
        await server.set_application_uri(self._namespace_uri)
        server.set_security_policy([ENDPOINT_POLICIES[e] for e in self.security.endpoints])
        tokens: list[type] = [ua.AnonymousIdentityToken]
        if self.security.certificate is not None and self.security.private_key is not None:
            await server.load_certificate(str(self.security.certificate))
            await server.load_private_key(str(self.security.private_key))
            tokens.append(ua.X509IdentityToken)
        server.set_identity_tokens(tokens)
        self._ns = await server.register_namespace(self._namespace_uri)
        self._object = await server.nodes.objects.add_object(
            self.root, ua.QualifiedName(self._object_name, self._ns)
        )
        self._server = server
        await self.build()
        await server.start()
        self._task = asyncio.create_task(self._run(), name=f"{self._object_name}-scan")
        endpoints = ", ".join(self.security.endpoints)
        log.info("%s listening on %s (%s)", self._server_name, self.endpoint, endpoints)

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        server, self._server = self._server, None
        if server is not None:
            clock, server.iserver.time_task = server.iserver.time_task, None
            if clock is not None:
                clock.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await clock
            await server.stop()

    def disconnect(self) -> int:
        """Drop every client connection at once, as a pulled cable would; returns how many."""
        if self._server is None:
            return 0
        transports = list(self._server.iserver.asyncio_transports)
        for transport in transports:
            transport.abort()
        return len(transports)

    # --- what subclasses build and run --------------------------------------------------------

    @abstractmethod
    async def build(self) -> None:
        """Add the device's variables and methods."""

    async def scan(self) -> None:
        """One scan of the device (inputs written by clients, timers); nothing by default."""

    async def _run(self) -> None:
        while True:
            try:
                await self.scan()
            except Exception:
                log.exception("%s scan failed", self._object_name)
            await asyncio.sleep(self._tick_s)

    async def add_variable(
        self, name: str, value: Any, vtype: ua.VariantType, *, writable: bool = False
    ) -> None:
        parent = await self._folder(name.rpartition(".")[0])
        node = await parent.add_variable(
            self.node_id(name),
            ua.QualifiedName(name.rpartition(".")[2], self._ns),
            ua.Variant(value, vtype),
        )
        if writable:
            await node.set_writable()
        self._nodes[name] = node.nodeid
        self._types[name] = vtype
        self._shown[name] = value

    async def add_method(
        self,
        name: str,
        method: Method,
        inputs: Sequence[ua.Argument],
        outputs: Sequence[ua.Argument],
    ) -> None:
        assert self._object is not None
        await self._object.add_method(
            self.node_id(name),
            ua.QualifiedName(name, self._ns),
            method,
            list(inputs),
            list(outputs),
        )

    async def show(self, name: str, value: Any, *, force: bool = False) -> None:
        """Write `value` to variable `name` (only if it changed, unless `force`)."""
        if not force and self._shown.get(name) == value:
            return
        assert self._server is not None
        self._shown[name] = value
        await self._server.write_attribute_value(
            self._nodes[name],
            ua.DataValue(ua.Variant(value, self._types[name]), SourceTimestamp=datetime.now(UTC)),  # type: ignore[arg-type]
        )

    def value(self, name: str) -> Any:
        """The current value of variable `name`, as clients may have written it."""
        assert self._server is not None
        variant = self._server.read_attribute_value(self._nodes[name]).Value
        return None if variant is None else variant.Value

    async def _folder(self, path: str) -> Node:
        assert self._object is not None
        if not path:
            return self._object
        if path in self._nodes:
            return Node(self._object.session, self._nodes[path])
        parent = await self._folder(path.rpartition(".")[0])
        node = await parent.add_object(
            self.node_id(path), ua.QualifiedName(path.rpartition(".")[2], self._ns)
        )
        self._nodes[path] = node.nodeid
        return node
