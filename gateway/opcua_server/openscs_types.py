"""Between the plain OPEN-SCS structures (`openscs_model`) and asyncua's classes for them.

asyncua generates one class per structure and keeps it in a process-wide registry keyed by the
data type's NodeId, namespace index included. A server and a client in the same process may see
the OPEN-SCS namespace at different indexes, so the classes are always looked up for the index
of the connection at hand, never taken from `ua.<Name>`.

Reading is duck-typed and strict: a value of the wrong type, or a structure without the
expected fields, is refused with an `OpenScsError` that names the argument and fails the call
with BadTypeMismatch (a type problem is OPC UA's to report; OPEN-SCS return statuses are kept
for what the values mean).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from asyncua import ua

from gateway.opcua_server.openscs_model import (
    Aggregation,
    KeyValues,
    Label,
    LabelCollection,
    OpenScsError,
    ReturnStatus,
    SnCollection,
    TypeId,
)


class OpenScsTypes:
    """asyncua's classes of the OPEN-SCS structures for one namespace index."""

    def __init__(self, namespace_index: int) -> None:
        self.namespace_index = namespace_index

    def node_id(self, type_id: int) -> ua.NodeId:
        return numeric_id(type_id, self.namespace_index)

    def _new(self, type_id: TypeId, **fields: Any) -> Any:
        cls = ua.extension_objects_by_datatype.get(self.node_id(type_id))
        if cls is None:
            raise RuntimeError(
                f"the OPEN-SCS structure {type_id.name} (ns={self.namespace_index};"
                f"i={int(type_id)}) is not loaded; call load_data_type_definitions() first"
            )
        return cls(**fields)

    def key_values(self, pairs: KeyValues) -> list[Any]:
        return [self._new(TypeId.KEY_VALUE, Key=key, Value=value) for key, value in pairs]

    def sn_collection(self, collection: SnCollection) -> Any:
        return self._new(
            TypeId.SN_COLLECTION,
            ID=collection.id,
            Description=collection.description,
            State=collection.state,
            AssociatedPoolID=collection.pool_id,
            SerialNumbers=list(collection.serial_numbers),
        )

    def label(self, label: Label) -> Any:
        return self._new(
            TypeId.LABEL, ID=label.id, LabelProperties=self.key_values(label.properties)
        )

    def label_collection(self, collection: LabelCollection) -> Any:
        return self._new(
            TypeId.LABEL_COLLECTION,
            ID=collection.id,
            Description=collection.description,
            State=collection.state,
            AssociatedPoolID=collection.pool_id,
            SerialNumbers=list(collection.serial_numbers),
            LabelCollection=[self.label(label) for label in collection.labels],
            LabelCollectionProperties=None
            if collection.properties is None
            else self.key_values(collection.properties),
        )

    def aggregation(self, aggregation: Aggregation) -> Any:
        return self._new(
            TypeId.AGGREGATION,
            ParentElement=self.label(aggregation.parent),
            ParentElementCollection=self.label_collection(aggregation.children),
        )

    def variant(self, value: Any) -> ua.Variant:
        """An ExtensionObject (or array of them) as a method argument."""
        return ua.Variant(value, ua.VariantType.ExtensionObject)


def numeric_id(identifier: int, namespace_index: int) -> ua.NodeId:
    return ua.NodeId(ua.Int32(int(identifier)), ua.Int16(namespace_index))


def string_id(identifier: str, namespace_index: int) -> ua.NodeId:
    return ua.NodeId(ua.String(identifier), ua.Int16(namespace_index))


def plain(value: Any) -> Any:
    """The value of a method argument, whether it came wrapped in a Variant or not."""
    return value.Value if isinstance(value, ua.Variant) else value


def _text(value: Any, argument: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _mismatch(argument, f"expected a String, got {type(value).__name__}")
    return value


def _mismatch(argument: str, message: str, what: str = "") -> OpenScsError:
    return OpenScsError(
        ReturnStatus.UNDEFINED,
        message,
        argument=argument,
        hint="send the argument with the data type the method declares"
        + (f" (load the server's data type definitions to build an {what})" if what else ""),
        call_status="BadTypeMismatch",
    )


def read_text(value: Any, argument: str) -> str:
    return _text(plain(value), argument)


def read_count(value: Any, argument: str = "Count") -> int:
    count = plain(value)
    if isinstance(count, bool) or not isinstance(count, int):
        raise _mismatch(argument, f"expected a UInt32, got {type(count).__name__}")
    return count


def _fields(value: Any, names: Sequence[str], argument: str, what: str) -> list[Any]:
    missing = [name for name in names if not hasattr(value, name)]
    if value is None or missing or isinstance(value, ua.ExtensionObject):
        got = "nothing" if value is None else type(value).__name__
        raise _mismatch(argument, f"expected an {what}, got {got}", what)
    return [getattr(value, name) for name in names]


def read_key_values(value: Any, argument: str) -> KeyValues:
    items = plain(value)
    if items is None:
        return ()
    if not isinstance(items, list):
        items = [items]
    pairs = []
    for i, item in enumerate(items):
        key, text = _fields(item, ("Key", "Value"), f"{argument}[{i}]", "OPENSCSKeyValueDataType")
        pairs.append((_text(key, f"{argument}[{i}].Key"), _text(text, f"{argument}[{i}].Value")))
    return tuple(pairs)


def read_sn_collection(value: Any, argument: str = "SNCollection") -> SnCollection:
    names = ("ID", "Description", "State", "AssociatedPoolID", "SerialNumbers")
    sid, description, state, pool, serials = _fields(
        plain(value), names, argument, "OPENSCSSNCollectionDataType"
    )
    numbers = [] if serials is None else serials
    if not isinstance(numbers, list):
        numbers = [numbers]
    return SnCollection(
        id=_text(sid, f"{argument}.ID"),
        description=_text(description, f"{argument}.Description"),
        state=int(state or 0),
        pool_id=_text(pool, f"{argument}.AssociatedPoolID"),
        serial_numbers=tuple(
            _text(serial, f"{argument}.SerialNumbers[{i}]") for i, serial in enumerate(numbers)
        ),
    )


def read_label(value: Any, argument: str) -> Label:
    sid, properties = _fields(value, ("ID", "LabelProperties"), argument, "OPENSCSLabelDataType")
    return Label(_text(sid, f"{argument}.ID"), read_key_values(properties, f"{argument}.Props"))


def read_label_collection(value: Any, argument: str = "LabelCollection") -> LabelCollection:
    base = read_sn_collection(value, argument)
    labels, properties = _fields(
        plain(value),
        ("LabelCollection", "LabelCollectionProperties"),
        argument,
        "OPENSCSLabelCollectionDataType",
    )
    return LabelCollection(
        id=base.id,
        description=base.description,
        state=base.state,
        pool_id=base.pool_id,
        serial_numbers=base.serial_numbers,
        labels=tuple(
            read_label(label, f"{argument}.LabelCollection[{i}]")
            for i, label in enumerate(labels or [])
        ),
        properties=None
        if properties is None
        else read_key_values(properties, f"{argument}.LabelCollectionProperties"),
    )


def read_aggregation(value: Any, argument: str = "AggregationElement") -> Aggregation:
    parent, children = _fields(
        value, ("ParentElement", "ParentElementCollection"), argument, "OPENSCSAggregationDataType"
    )
    return Aggregation(
        parent=read_label(parent, f"{argument}.ParentElement"),
        children=read_label_collection(children, f"{argument}.ParentElementCollection"),
    )


def read_return_status(value: Any) -> ReturnStatus:
    raw = plain(value)
    try:
        return ReturnStatus(int(raw))
    except (TypeError, ValueError):
        return ReturnStatus.UNDEFINED
