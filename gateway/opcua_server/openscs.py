"""OPEN-SCS (OPC 30260) serial number provisioning on the gateway's OPC UA server.

The contract with the server (`gateway/opcua_server/server.py`)::

    handle = await install_openscs(
        server,                      # asyncua.Server, initialised, not started
        engine=engine,               # the gateway's store
        audit=trail,                 # the site's AuditTrail (None: a trail on the same store)
        settings=OpenScsSettings(),  # MaxSN… limits and the page size
        caller=lambda method: ...,   # Actor the call runs as, or None to refuse it
    )

Call it after the server's own model is built and before `server.start()`. It imports the
OPEN-SCS nodeset (errata fixed, `openscs_nodeset.py`), registers the instance namespace
`INSTANCE_NAMESPACE_URI` and adds, under Objects:

- `OpenSCS/PoolManager` (`OPENSCSPoolManagerObjectType`, NodeId `ns=<i>;s=OpenSCS.PoolManager`)
  with its methods linked: SNtoUnallocated, SNRequestUnallocated, SNRequestAllocated and
  SNReturnAllocated do their work (`openscs_pool.py`); SNRequestUnassigned,
  SNReturnUnallocated, SNtoAllocated and SNtoEncoded answer `BadNotImplemented`;
- `OpenSCS/SIDClasses/<product>.<level>` (`OPENSCSSIDClassObjectType`), one per product level.

`caller(method_name)` names who calls (for the audit trail) and decides whether they may: asyncua
hands a method no session, so the server supplies it (its `current_caller()`); without one,
every call runs as `DEFAULT_ACTOR`. A refused caller gets ReturnStatus
InsufficientPrivilegeToExecute. Every refusal also says what is wrong and how to fix it in the
call's InputArgumentDiagnosticInfos (AdditionalInfo) and marks the argument at fault in
InputArgumentResults. `handle.refresh()` republishes the SID classes after master data changed
(calls always read the store afresh).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from asyncua import ua
from asyncua.server.server import Server
from asyncua.ua.status_codes import StatusCodes
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from ebr.audit.actor import Actor
from ebr.audit.trail import AuditTrail
from ebr.errors import StoreError
from gateway.opcua_server.openscs_model import (
    OpenScsError,
    OpenScsSettings,
    Page,
    ReturnStatus,
    SnCollection,
    SnFormat,
    TypeId,
)
from gateway.opcua_server.openscs_nodeset import load_openscs_nodeset
from gateway.opcua_server.openscs_pool import PoolService
from gateway.opcua_server.openscs_sid import SidClass
from gateway.opcua_server.openscs_types import (
    OpenScsTypes,
    numeric_id,
    read_count,
    read_key_values,
    read_sn_collection,
    read_text,
    string_id,
)

log = logging.getLogger("tracegate.opcua_server.openscs")

INSTANCE_NAMESPACE_URI: Final = "urn:tracegate:gateway:openscs"
DEFAULT_ACTOR: Final = Actor(username="openscs")
PUSH_INPUTS: Final = ("SNCollection", "PoolSelectionCriteria", "SNFormat")
REQUEST_INPUTS: Final = (
    "SNCollectionID",
    "Count",
    "SNFormat",
    "PoolSelectionCriteria",
    "RequestToken",
)
NOT_OFFERED: Final = ("SNRequestUnassigned", "SNReturnUnallocated", "SNtoAllocated", "SNtoEncoded")

CallerLookup = Callable[[str], Actor | None]
"""Method name → the Actor the call runs as, or None when the caller may not call it."""


@dataclass
class OpenScsHandle:
    namespace_index: int
    """Where the OPEN-SCS types live on this server."""
    instance_namespace: int
    pool_manager: ua.NodeId
    sid_classes: ua.NodeId
    _server: Any
    _pool: PoolService
    _types: OpenScsTypes

    def child_id(self, name: str) -> ua.NodeId:
        """NodeId of a method or property of the pool manager, e.g. `SNtoUnallocated`."""
        return string_id(f"OpenSCS.PoolManager.{name}", self.instance_namespace)

    async def refresh(self) -> None:
        """Publish the store's SID classes again (after master data changed)."""
        folder = self._server.get_node(self.sid_classes)
        children = await folder.get_children()
        if children:
            await self._server.delete_nodes(children, recursive=True)
        classes = await asyncio.to_thread(lambda: list(self._pool.sid_classes()))
        for sid in classes:
            await _add_sid_class(folder, sid, self.namespace_index, self.instance_namespace)
        criteria = [("SIDClassID", sid.id) for sid in classes if sid.pooled]
        node = self._server.get_node(self.child_id("PoolSelectionCriteria"))
        await node.write_value(self._types.variant(self._types.key_values(tuple(criteria))))


async def install_openscs(
    server: Server,
    *,
    engine: Engine,
    audit: AuditTrail | None = None,
    settings: OpenScsSettings | None = None,
    caller: CallerLookup | None = None,
) -> OpenScsHandle:
    settings = settings or OpenScsSettings()
    ns = await load_openscs_nodeset(server)
    instance = int(await server.register_namespace(INSTANCE_NAMESPACE_URI))
    folder = await server.nodes.objects.add_folder(
        string_id("OpenSCS", instance), ua.QualifiedName("OpenSCS", instance)
    )
    manager = await folder.add_object(
        string_id("OpenSCS.PoolManager", instance),
        ua.QualifiedName("PoolManager", instance),
        objecttype=numeric_id(TypeId.POOL_MANAGER_TYPE, ns),
    )
    classes = await folder.add_folder(
        string_id("OpenSCS.SIDClasses", instance), ua.QualifiedName("SIDClasses", instance)
    )
    types = OpenScsTypes(ns)
    pool = PoolService(engine, settings=settings, audit=audit)
    handle = OpenScsHandle(ns, instance, manager.nodeid, classes.nodeid, server, pool, types)
    for name, value in (
        ("MaxSNPushable", settings.max_sn_pushable),
        ("MaxSNRequestable", settings.max_sn_requestable),
        ("MaxSNReturnable", settings.max_sn_returnable),
    ):
        node = server.get_node(handle.child_id(name))
        await node.write_value(ua.Variant(value, ua.VariantType.UInt32))
    formats = [fmt.value for fmt in SnFormat]
    await server.get_node(handle.child_id("SNFormat")).write_value(
        ua.Variant(formats, ua.VariantType.String)
    )
    methods = _PoolMethods(pool, types, caller or (lambda _method: DEFAULT_ACTOR))
    for name, callback in methods.callbacks().items():
        server.link_method(server.get_node(handle.child_id(name)), callback)
    await handle.refresh()
    return handle


async def _add_sid_class(folder: Any, sid: SidClass, ns: int, instance: int) -> None:
    name = f"{sid.product.id}.{sid.level.value}"
    node = await folder.add_object(
        string_id(f"OpenSCS.SIDClasses.{name}", instance),
        ua.QualifiedName(name, instance),
        objecttype=numeric_id(TypeId.SID_CLASS_TYPE, ns),
    )
    for prop, value in (
        ("SIDClassID", sid.id),
        ("SIDClassOwner", sid.owner),
        ("SIDClassDescription", sid.description),
        ("SyntaxSpecification", sid.syntax),
        ("AllowedCharacterSet", sid.allowed_characters),
        ("IntendedUse", f"{sid.level.value} level of product {sid.product.id}"),
    ):
        child = await node.get_child(ua.QualifiedName(prop, ns))
        await child.write_value(ua.Variant(value, ua.VariantType.String))


class _PoolMethods:
    """The pool manager's method callbacks: arguments in, refusals out, store work in a
    worker thread."""

    def __init__(self, pool: PoolService, types: OpenScsTypes, caller: CallerLookup) -> None:
        self._pool = pool
        self._types = types
        self._caller = caller

    def callbacks(self) -> dict[str, Callable[..., Any]]:
        calls: dict[str, Callable[..., Any]] = {
            "SNtoUnallocated": self.sn_to_unallocated,
            "SNReturnAllocated": self.sn_return_allocated,
            "SNRequestUnallocated": self._requester("SNRequestUnallocated"),
            "SNRequestAllocated": self._requester("SNRequestAllocated"),
        }
        for name in NOT_OFFERED:
            calls[name] = self._not_offered(name)
        return calls

    async def sn_to_unallocated(self, _parent: ua.NodeId, *args: Any) -> ua.CallMethodResult:
        def work(actor: Actor) -> list[ua.Variant]:
            collection, criteria, fmt = _push_arguments(args)
            count = self._pool.push_unallocated(collection, criteria, fmt, actor)
            log.info("SNtoUnallocated by %s: %d serial numbers imported", actor.username, count)
            return [_status(ReturnStatus.NO_ERROR)]

        return await self._answer("SNtoUnallocated", PUSH_INPUTS, work, lambda s: [_status(s)])

    async def sn_return_allocated(self, _parent: ua.NodeId, *args: Any) -> ua.CallMethodResult:
        def work(actor: Actor) -> list[ua.Variant]:
            collection, criteria, fmt = _push_arguments(args)
            count = self._pool.return_allocated(collection, criteria, fmt, actor)
            log.info("SNReturnAllocated by %s: %d codes returned", actor.username, count)
            return [_status(ReturnStatus.NO_ERROR)]

        return await self._answer("SNReturnAllocated", PUSH_INPUTS, work, lambda s: [_status(s)])

    def _requester(self, method: str) -> Callable[..., Any]:
        async def call(_parent: ua.NodeId, *args: Any) -> ua.CallMethodResult:
            def work(actor: Actor) -> list[ua.Variant]:
                _arity(args, REQUEST_INPUTS)
                page = self._pool.request(
                    method,
                    collection_id=read_text(args[0], "SNCollectionID"),
                    count=read_count(args[1]),
                    sn_format=read_text(args[2], "SNFormat"),
                    criteria=read_key_values(args[3], "PoolSelectionCriteria"),
                    token=read_text(args[4], "RequestToken"),
                    actor=actor,
                )
                return self._page(page)

            def refused(status: ReturnStatus) -> list[ua.Variant]:
                return self._page(Page(status, SnCollection()))

            return await self._answer(method, REQUEST_INPUTS, work, refused)

        return call

    def _not_offered(self, method: str) -> Callable[..., Any]:
        async def call(_parent: ua.NodeId, *args: Any) -> ua.CallMethodResult:
            message = (
                f"{method} is not offered by this gateway (see docs/openscs.md for the "
                "profiles covered)"
            )
            result = ua.CallMethodResult()
            result.StatusCode = ua.StatusCode(ua.UInt32(StatusCodes.BadNotImplemented))
            result.InputArgumentDiagnosticInfos = [
                ua.DiagnosticInfo(AdditionalInfo=ua.String(message))
            ]
            return result

        return call

    def _page(self, page: Page) -> list[ua.Variant]:
        return [
            _status(page.status),
            self._types.variant(self._types.sn_collection(page.collection)),
            ua.Variant(page.next_token, ua.VariantType.String),
        ]

    async def _answer(
        self,
        method: str,
        inputs: Sequence[str],
        work: Callable[[Actor], list[ua.Variant]],
        refused: Callable[[ReturnStatus], list[ua.Variant]],
    ) -> ua.CallMethodResult:
        actor = self._caller(method)
        try:
            if actor is None:
                raise OpenScsError(
                    ReturnStatus.INSUFFICIENT_PRIVILEGE_TO_EXECUTE,
                    f"this session may not call {method}",
                    hint="log on with an account whose role may provision serial numbers",
                )
            outputs = await asyncio.to_thread(work, actor)
        except OpenScsError as error:
            log.warning("%s refused: %s", method, error)
            return _refusal(error, inputs, refused)
        except (StoreError, SQLAlchemyError) as error:
            log.exception("%s failed in the store", method)
            failed = OpenScsError(
                ReturnStatus.UNDEFINED,
                f"the store could not complete {method}, nothing was changed: {error}",
                hint="call again; if it fails again, see the gateway's log",
                call_status="BadInternalError",
            )
            return _refusal(failed, inputs, refused)
        result = ua.CallMethodResult()
        result.OutputArguments = outputs
        return result


def _push_arguments(args: Sequence[Any]) -> tuple[SnCollection, Any, str]:
    _arity(args, PUSH_INPUTS)
    return (
        read_sn_collection(args[0]),
        read_key_values(args[1], "PoolSelectionCriteria"),
        read_text(args[2], "SNFormat"),
    )


def _arity(args: Sequence[Any], names: Sequence[str]) -> None:
    if len(args) != len(names):
        raise OpenScsError(
            ReturnStatus.UNDEFINED,
            f"{len(args)} input argument(s) given, {len(names)} expected",
            hint=f"send {', '.join(names)}",
            call_status="BadArgumentsMissing" if len(args) < len(names) else "BadTooManyArguments",
        )


def _status(status: ReturnStatus) -> ua.Variant:
    return ua.Variant(int(status), ua.VariantType.Int32)


def _refusal(
    error: OpenScsError,
    inputs: Sequence[str],
    refused: Callable[[ReturnStatus], list[ua.Variant]],
) -> ua.CallMethodResult:
    root = (error.argument or "").split(".")[0].split("[")[0]
    at = inputs.index(root) if root in inputs else 0
    bad = ua.UInt32(getattr(StatusCodes, error.call_status or "BadInvalidArgument"))
    result = ua.CallMethodResult()
    if error.call_status:
        result.StatusCode = ua.StatusCode(bad)
    else:
        result.OutputArguments = refused(error.status)
    result.InputArgumentResults = [
        ua.StatusCode(bad if i == at and root in inputs else ua.UInt32(StatusCodes.Good))
        for i in range(len(inputs))
    ]
    result.InputArgumentDiagnosticInfos = [
        ua.DiagnosticInfo(AdditionalInfo=ua.String(str(error)) if i == at else None)
        for i in range(len(inputs))
    ]
    return result
