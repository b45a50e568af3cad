"""The OPC 30260 nodeset loads, its types are browsable, and its structures are usable by a
client that knows nothing but what the server's DataTypeDefinitions say."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from asyncua import ua
from asyncua.ua.ua_binary import struct_to_binary
from sqlalchemy import Engine

from ebr.db import make_engine
from ebr.schema import upgrade
from gateway.opcua_server.openscs_model import Label, LabelCollection, SnCollection, TypeId
from gateway.opcua_server.openscs_nodeset import corrected_nodeset_xml
from tests.ebr.fixtures_master import install_master_data
from tests.gateway.opcua_server.openscs_fixtures import openscs_gateway


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """The nodeset does not depend on the database: one is enough here."""
    engine = make_engine(f"sqlite:///{tmp_path}/tracegate.db")
    upgrade(engine)
    yield engine
    engine.dispose()


def _string(text: str) -> bytes:
    return struct.pack("<i", len(text)) + text.encode()


async def test_types_are_browsable_and_definitions_complete(sqlite_engine: Engine) -> None:
    install_master_data(sqlite_engine)
    async with openscs_gateway(sqlite_engine) as (handle, session):
        ns, client = session.types.namespace_index, session.client
        names = {}
        for type_id in TypeId:
            node = client.get_node(ua.NodeId(int(type_id), ns))
            names[type_id] = (await node.read_browse_name()).Name
        sn = await client.get_node(ua.NodeId(int(TypeId.SN_COLLECTION), ns)).read_attribute(
            ua.AttributeIds.DataTypeDefinition
        )
        labels = await client.get_node(ua.NodeId(int(TypeId.LABEL_COLLECTION), ns)).read_attribute(
            ua.AttributeIds.DataTypeDefinition
        )
        methods = {
            (await child.read_browse_name()).Name
            for child in await session.manager.get_children(refs=ua.ObjectIds.HasComponent)
        }
        sid = client.get_node(ua.NodeId("OpenSCS.SIDClasses.para.unit", handle.instance_namespace))
        sid_id = await (await sid.get_child(f"{ns}:SIDClassID")).read_value()
        syntax = await (await sid.get_child(f"{ns}:SyntaxSpecification")).read_value()
        maximum = await (await session.manager.get_child(f"{ns}:MaxSNPushable")).read_value()
    assert names[TypeId.POOL_MANAGER_TYPE] == "OPENSCSPoolManagerObjectType"
    assert names[TypeId.EVENT_MANAGER_TYPE] == "OPENSCSEventManagerObjectType"
    assert names[TypeId.AGGREGATION_MANAGER_TYPE] == "OPENSCSAggregationManagerObjectType"
    assert names[TypeId.SN_COLLECTION] == "OPENSCSSNCollectionDataType"
    sn_fields = [f.Name for f in sn.Value.Value.Fields]
    assert sn_fields == ["ID", "Description", "State", "AssociatedPoolID", "SerialNumbers"]
    label_fields = [(f.Name, f.IsOptional) for f in labels.Value.Value.Fields]
    assert label_fields[:5] == [(name, False) for name in sn_fields]
    assert label_fields[5:] == [("LabelCollection", False), ("LabelCollectionProperties", True)]
    assert labels.Value.Value.StructureType == ua.StructureType.StructureWithOptionalFields
    assert {"SNtoUnallocated", "SNRequestUnallocated", "SNRequestAllocated"} <= methods
    assert sid_id == "urn:epc:idpat:sgtin:9501101.053002.*"
    assert syntax == "GS1: (01) GTIN 09501101530027 + (21) serial of 12 characters"
    assert maximum == 100_000


async def test_wire_layout_follows_the_binary_schema(sqlite_engine: Engine) -> None:
    async with openscs_gateway(sqlite_engine) as (_handle, session):
        types = session.types
        collection = types.label_collection(
            LabelCollection(
                id="c",
                state=7,
                serial_numbers=("S1",),
                labels=(Label("S1", (("lot", "A"),)),),
                properties=(("order", "42"),),
            )
        )
        sn = types.sn_collection(SnCollection(id="c", state=1, serial_numbers=("S1", "S2")))
    encoding = ua.typeid_by_extension_objects[type(sn)]
    assert encoding == ua.NodeId(15191, types.namespace_index)
    assert struct_to_binary(sn) == (
        _string("c") + _string("") + struct.pack("<i", 1) + _string("")
        + struct.pack("<i", 2) + _string("S1") + _string("S2")
    )  # fmt: skip
    assert struct_to_binary(collection) == (
        struct.pack("<I", 1)  # LabelCollectionPropertiesSpecified
        + _string("c") + _string("") + struct.pack("<i", 7) + _string("")
        + struct.pack("<i", 1) + _string("S1")
        + struct.pack("<i", 1) + _string("S1")  # LabelCollection: one label
        + struct.pack("<i", 1) + _string("lot") + _string("A")
        + struct.pack("<i", 1) + _string("order") + _string("42")
    )  # fmt: skip


async def test_sid_classes_are_republished_after_master_data_changed(
    sqlite_engine: Engine,
) -> None:
    async with openscs_gateway(sqlite_engine) as (handle, session):
        ns = session.types.namespace_index
        criteria = await session.manager.get_child(f"{ns}:PoolSelectionCriteria")
        before = await criteria.read_value()
        classes = session.client.get_node(handle.sid_classes)
        empty = await classes.get_children()
        install_master_data(sqlite_engine)
        await handle.refresh()
        after = [kv.Value for kv in await criteria.read_value()]
        names = {(await c.read_browse_name()).Name for c in await classes.get_children()}
    assert (before, empty) == ([], [])
    assert after == [
        "urn:tracegate:sidclass:nmpa:unit",
        "urn:epc:idpat:sgtin:9501101.053002.*",
        "urn:tracegate:sidclass:tmpl:unit",
    ]
    assert {"para.unit", "amox.case", "amox.unit", "nmpa.unit"} <= names


def test_the_errata_are_fixed_in_memory_only() -> None:
    text = corrected_nodeset_xml()
    assert text.count('<Definition Name="1:OPENSCSSNCollectionDataType">') == 1
    label = text.split('<Definition Name="1:OPENSCSLabelCollectionDataType">')[1]
    assert label.split("</Definition>")[0].count("<Field ") == 7
