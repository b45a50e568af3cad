"""The tracegate information model: object and event types, and the site's instances.

Every node of the namespace has a string NodeId, so clients can hard-code them
(docs/opcua.md): types are `Types.<TypeName>[.<Child>]`, instances `Site`, `Site.Records`,
`Site.Lines.<line id>`, `Site.Lines.<line id>.CurrentBatch`,
`Site.Lines.<line id>.Devices.<device id>`, each variable `<object>.<BrowseName>`.

asyncua copies a type's methods onto each instance as new method nodes without a callback:
`link_records_methods` (`link_methods` for other objects) links the instance's copies; the
type's own method nodes answer BadMethodInvalid (a method is called on the instance, not on its
type).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any, Final

from asyncua import ua
from asyncua.common.node import Node
from asyncua.server.server import Server
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.object_ids import ObjectIds
from asyncua.ua.status_codes import StatusCodes

from gateway.opcua_server.methods import RECORDS_METHODS, Argument, MethodSpec
from gateway.opcua_server.settings import SiteModel

NULL_TIME: Final = ua.get_win_epoch()
"""OPC UA's null DateTime (1601-01-01), for a device never heard from."""

Variables = tuple[tuple[str, ua.VariantType, Any], ...]

SITE_VARIABLES: Final[Variables] = (
    ("SiteId", ua.VariantType.String, ""),
    ("CompanyName", ua.VariantType.String, ""),
    ("Gln", ua.VariantType.String, ""),
)
LINE_VARIABLES: Final[Variables] = (
    ("LineId", ua.VariantType.String, ""),
    ("Name", ua.VariantType.String, ""),
    ("PackMLState", ua.VariantType.Int32, 0),
    ("PackMLStateName", ua.VariantType.String, ""),
    ("GoodCount", ua.VariantType.Int64, 0),
    ("RejectedCount", ua.VariantType.Int64, 0),
    ("TotalCount", ua.VariantType.Int64, 0),
    ("SpeedUpm", ua.VariantType.Double, 0.0),
)
BATCH_VARIABLES: Final[Variables] = (
    ("BatchId", ua.VariantType.Int64, 0),
    ("ProductId", ua.VariantType.String, ""),
    ("Lot", ua.VariantType.String, ""),
    ("Status", ua.VariantType.String, ""),
    ("PlannedQuantity", ua.VariantType.Int64, 0),
    ("IssuedCount", ua.VariantType.Int64, 0),
    ("AcceptedCount", ua.VariantType.Int64, 0),
    ("RejectedCount", ua.VariantType.Int64, 0),
    ("SampledCount", ua.VariantType.Int64, 0),
    ("DestroyedCount", ua.VariantType.Int64, 0),
    ("VoidedCount", ua.VariantType.Int64, 0),
    ("ReconciliationBalanced", ua.VariantType.Boolean, False),
)
DEVICE_VARIABLES: Final[Variables] = (
    ("DeviceId", ua.VariantType.String, ""),
    ("Role", ua.VariantType.String, ""),
    ("ConnectionState", ua.VariantType.String, "unknown"),
    ("LastUpdate", ua.VariantType.DateTime, NULL_TIME),
    ("ErrorCount", ua.VariantType.Int64, 0),
    ("LastError", ua.VariantType.String, ""),
)
BATCH_PHASE_EVENT_FIELDS: Final[Variables] = (
    ("BatchId", ua.VariantType.Int64, 0),
    ("LineId", ua.VariantType.String, ""),
    ("Lot", ua.VariantType.String, ""),
    ("FromPhase", ua.VariantType.String, ""),
    ("ToPhase", ua.VariantType.String, ""),
    ("UserName", ua.VariantType.String, ""),
    ("Reason", ua.VariantType.String, ""),
)
ALARM_EVENT_FIELDS: Final[Variables] = (
    ("AlarmId", ua.VariantType.String, ""),
    ("AlarmState", ua.VariantType.String, ""),
    ("Priority", ua.VariantType.Int32, 0),
    ("LineId", ua.VariantType.String, ""),
    ("Detail", ua.VariantType.String, ""),
)

_DATA_TYPES: Final = {
    "Int64": (ua.VariantType.Int64, -1),
    "UInt32": (ua.VariantType.UInt32, -1),
    "String": (ua.VariantType.String, -1),
    "String[]": (ua.VariantType.String, 1),
    "Boolean": (ua.VariantType.Boolean, -1),
}

MethodCallback = Callable[..., Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class ObjectNodes:
    """The variables of one instance, by browse name."""

    node_id: ua.NodeId
    variables: Mapping[str, tuple[ua.NodeId, ua.VariantType]]


@dataclass(frozen=True, slots=True)
class LineNodes:
    line: ObjectNodes
    batch: ObjectNodes
    devices: Mapping[str, ObjectNodes]


@dataclass(frozen=True, slots=True)
class AddressSpace:
    namespace_index: int
    site: ObjectNodes
    lines: Mapping[str, LineNodes]
    records: ua.NodeId
    batch_phase_event_type: ua.NodeId
    alarm_event_type: ua.NodeId
    types: Mapping[str, ua.NodeId] = field(default_factory=dict)


def node_id(ns: int, path: str) -> ua.NodeId:
    return ua.NodeId(ua.String(path), ua.Int16(ns))


async def build(server: Server, ns: int, site: SiteModel) -> AddressSpace:
    """Declare the types and create the site's instances, values filled from `site`."""
    base = server.get_node(ObjectIds.BaseObjectType)
    types = {
        "SiteType": await _object_type(base, ns, "SiteType", SITE_VARIABLES),
        "LineType": await _object_type(base, ns, "LineType", LINE_VARIABLES),
        "BatchType": await _object_type(base, ns, "BatchType", BATCH_VARIABLES),
        "DeviceHealthType": await _object_type(base, ns, "DeviceHealthType", DEVICE_VARIABLES),
        "RecordsType": await method_object_type(base, ns, "RecordsType", RECORDS_METHODS),
    }
    event_base = server.get_node(ObjectIds.BaseEventType)
    batch_phase = await _event_type(event_base, ns, "BatchPhaseEventType", BATCH_PHASE_EVENT_FIELDS)
    alarm = await _event_type(event_base, ns, "AlarmEventType", ALARM_EVENT_FIELDS)

    objects = server.nodes.objects
    site_node = await _instance(objects, ns, "Site", "Site", types["SiteType"], SITE_VARIABLES)
    await _set(server, site_node, SiteId=site.id, CompanyName=site.company_name, Gln=site.gln or "")
    lines_folder = await server.get_node(site_node.node_id).add_folder(
        node_id(ns, "Site.Lines"), ua.QualifiedName("Lines", ns)
    )
    lines = {}
    for line in site.lines:
        path = f"Site.Lines.{line.id}"
        line_node = await _instance(
            lines_folder, ns, path, line.id, types["LineType"], LINE_VARIABLES
        )
        await _set(server, line_node, LineId=line.id, Name=line.name)
        parent = server.get_node(line_node.node_id)
        batch = await _instance(
            parent, ns, f"{path}.CurrentBatch", "CurrentBatch", types["BatchType"], BATCH_VARIABLES
        )
        folder = await parent.add_folder(
            node_id(ns, f"{path}.Devices"), ua.QualifiedName("Devices", ns)
        )
        devices = {}
        for device in line.devices:
            devices[device.id] = await _instance(
                folder,
                ns,
                f"{path}.Devices.{device.id}",
                device.id,
                types["DeviceHealthType"],
                DEVICE_VARIABLES,
            )
            await _set(server, devices[device.id], DeviceId=device.id, Role=device.role)
        lines[line.id] = LineNodes(line_node, batch, devices)
    records = await server.get_node(site_node.node_id).add_object(
        node_id(ns, "Site.Records"), ua.QualifiedName("Records", ns), types["RecordsType"]
    )
    return AddressSpace(
        namespace_index=ns,
        site=site_node,
        lines=lines,
        records=records.nodeid,
        batch_phase_event_type=batch_phase,
        alarm_event_type=alarm,
        types=types,
    )


def link_records_methods(
    server: Server, space: AddressSpace, callbacks: Mapping[str, MethodCallback]
) -> None:
    link_methods(server, space.namespace_index, "Site.Records", RECORDS_METHODS, callbacks)


def link_methods(
    server: Server,
    ns: int,
    instance: str,
    specs: Iterable[MethodSpec],
    callbacks: Mapping[str, MethodCallback],
) -> None:
    """Link the instance's copies of its type's methods (`<instance>.<Method>`)."""
    for spec in specs:
        method = server.get_node(node_id(ns, f"{instance}.{spec.name}"))
        server.link_method(method, callbacks[spec.name])


async def _object_type(base: Node, ns: int, name: str, variables: Variables) -> ua.NodeId:
    node = await base.add_object_type(node_id(ns, f"Types.{name}"), ua.QualifiedName(name, ns))
    for browse, vtype, initial in variables:
        child = await node.add_variable(
            node_id(ns, f"Types.{name}.{browse}"),
            ua.QualifiedName(browse, ns),
            initial,
            varianttype=vtype,
        )
        await child.set_modelling_rule(True)
    return node.nodeid


async def method_object_type(
    base: Node, ns: int, name: str, specs: Iterable[MethodSpec]
) -> ua.NodeId:
    """An object type `Types.<name>` declaring `specs`; instances get copies to link."""
    node = await base.add_object_type(node_id(ns, f"Types.{name}"), ua.QualifiedName(name, ns))
    for spec in specs:
        method = await node.add_method(
            node_id(ns, f"Types.{name}.{spec.name}"),
            ua.QualifiedName(spec.name, ns),
            _called_on_type(spec),
            [_argument(a) for a in spec.inputs],
            [_argument(a) for a in spec.outputs],
        )
        await method.write_attribute(
            AttributeIds.Description,
            ua.DataValue(ua.Variant(ua.LocalizedText(spec.description))),
        )
        await method.set_modelling_rule(True)
    return node.nodeid


def _called_on_type(spec: MethodSpec) -> MethodCallback:
    async def refuse(parent: ua.NodeId, *args: Any) -> ua.StatusCode:
        return ua.StatusCode(ua.UInt32(StatusCodes.BadMethodInvalid))

    refuse.__name__ = f"{spec.name}_on_type"
    return refuse


def _argument(argument: Argument) -> ua.Argument:
    vtype, rank = _DATA_TYPES[argument.data_type]
    return ua.Argument(
        Name=argument.name,
        DataType=ua.NodeId(ua.Int32(vtype.value)),
        ValueRank=rank,
        ArrayDimensions=[0] if rank == 1 else [],
        Description=ua.LocalizedText(argument.description),
    )


async def _event_type(base: Node, ns: int, name: str, fields: Variables) -> ua.NodeId:
    node = await base.add_object_type(node_id(ns, f"Types.{name}"), ua.QualifiedName(name, ns))
    for browse, vtype, initial in fields:
        prop = await node.add_property(
            node_id(ns, f"Types.{name}.{browse}"),
            ua.QualifiedName(browse, ns),
            initial,
            varianttype=vtype,
        )
        await prop.set_modelling_rule(True)
    return node.nodeid


async def _instance(
    parent: Node, ns: int, path: str, browse: str, type_id: ua.NodeId, variables: Variables
) -> ObjectNodes:
    node = await parent.add_object(node_id(ns, path), ua.QualifiedName(browse, ns), type_id)
    return ObjectNodes(
        node.nodeid,
        {name: (node_id(ns, f"{path}.{name}"), vtype) for name, vtype, _initial in variables},
    )


async def _set(server: Server, nodes: ObjectNodes, **values: Any) -> None:
    await write_values(server, nodes, values)


async def write_values(server: Server, nodes: ObjectNodes, values: Mapping[str, Any]) -> None:
    """Write plain values to the instance's variables (each converted to its variable's type)."""
    now = ua.DateTime.now(UTC)
    for name, value in values.items():
        target, vtype = nodes.variables[name]
        await server.write_attribute_value(
            target,
            ua.DataValue(ua.Variant(value, vtype), SourceTimestamp=now, ServerTimestamp=now),
        )
