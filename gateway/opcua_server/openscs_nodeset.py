"""The OPC 30260 (OPEN-SCS) nodeset, loaded into an asyncua server with two errata fixed.

The published nodeset (`nodesets/Opc.Ua.OPENSCS.NodeSet2.xml`, shipped verbatim) disagrees with
its own binary schema (`Opc.Ua.OPENSCS.Types.bsd`) in two structures:

- `OPENSCSSNCollectionDataType` has no `Definition` at all, so asyncua aliases it to its abstract
  parent and encodes it with the parent's encoding id; a client cannot build one from the
  server's DataTypeDefinition.
- `OPENSCSLabelCollectionDataType`'s `Definition` lists only its own two fields, while the
  binary schema (and OPC UA 1.04, which wants every field of the supertypes in a subtype's
  StructureDefinition) has the five inherited collection fields first.

Both are repaired in memory before the import, by copying the fields of
`OPENSCSCollectionDataType`; the wire layout then matches the binary schema, which
`tests/gateway/opcua_server/test_openscs_nodeset.py` checks byte for byte.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from asyncua.server.server import Server
from asyncua.ua.uaerrors import UaStatusCodeError

from gateway.opcua_server.openscs_model import NAMESPACE_URI, TypeId
from gateway.opcua_server.openscs_types import numeric_id

NODESET = Path(__file__).with_name("nodesets") / "Opc.Ua.OPENSCS.NodeSet2.xml"


class NodesetError(RuntimeError):
    """The shipped nodeset is not the one the errata fixes were written for."""


@cache
def corrected_nodeset_xml() -> str:
    text = NODESET.read_text(encoding="utf-8")
    base = _definition_fields(text, TypeId.COLLECTION)
    label_open = '<Definition Name="1:OPENSCSLabelCollectionDataType">'
    if text.count(label_open) != 1:
        raise NodesetError(f"{NODESET.name}: no single LabelCollection definition to complete")
    text = text.replace(label_open, label_open + base, 1)
    sn_element = re.compile(
        r'(<UADataType NodeId="ns=1;i=' + str(int(TypeId.SN_COLLECTION)) + r'"[^>]*>.*?)'
        r"(\s*</UADataType>)",
        re.DOTALL,
    )
    match = sn_element.search(text)
    if match is None or "<Definition" in match.group(1):
        raise NodesetError(f"{NODESET.name}: OPENSCSSNCollectionDataType is not as published")
    definition = f'<Definition Name="1:OPENSCSSNCollectionDataType">{base}</Definition>'
    return text[: match.end(1)] + definition + text[match.end(1) :]


def _definition_fields(text: str, type_id: int) -> str:
    element = re.search(
        r'<UADataType[^>]*NodeId="ns=1;i=' + str(type_id) + r'"[^>]*>.*?'
        r"<Definition[^>]*>(.*?)</Definition>",
        text,
        re.DOTALL,
    )
    if element is None:
        raise NodesetError(f"{NODESET.name}: no definition for data type i={type_id}")
    return element.group(1)


async def load_openscs_nodeset(server: Server) -> int:
    """Import the nodeset once (structures registered for encoding); its namespace index."""
    namespaces = await server.get_namespace_array()
    if NAMESPACE_URI in namespaces:
        index = namespaces.index(NAMESPACE_URI)
        if await _has_node(server, numeric_id(TypeId.POOL_MANAGER_TYPE, index)):
            return index
    await server.import_xml(xmlstring=corrected_nodeset_xml())
    return int(await server.get_namespace_index(NAMESPACE_URI))


async def _has_node(server: Server, node_id: Any) -> bool:
    try:
        await server.get_node(node_id).read_browse_name()
    except UaStatusCodeError:
        return False
    return True
