"""EPCIS 2.0 XML: the EPCISDocument in the `urn:epcglobal:epcis:xsd:2` namespace.

Elements follow the order of the EPCIS 2.0 XSD; standard vocabulary values are written as
CBV URNs (`urn:epcglobal:cbv:bizstep:commissioning`), as EPCIS XML documents customarily do;
ILMD elements are in the CBV master data namespace. The eventID is the same event hash ID as
in the JSON-LD document, so both documents name each event alike.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from serialization.epcis.document import (
    CBVMDA,
    SCHEMA_VERSION,
    EpcisDocument,
    creation_date_text,
    event_time_text,
)
from serialization.epcis.events import AggregationEvent, EpcisEvent, ObjectEvent
from serialization.epcis.jsonld_binding import event_id
from serialization.epcis.vocabulary import Vocabulary

EPCIS_NS = "urn:epcglobal:epcis:xsd:2"


def document_to_xml(document: EpcisDocument) -> bytes:
    """The whole document, UTF-8 with an XML declaration."""
    ET.register_namespace("epcis", EPCIS_NS)
    ET.register_namespace("cbvmda", CBVMDA)
    root = ET.Element(
        f"{{{EPCIS_NS}}}EPCISDocument",
        {
            "schemaVersion": SCHEMA_VERSION,
            "creationDate": creation_date_text(document.creation_date),
        },
    )
    event_list = ET.SubElement(ET.SubElement(root, "EPCISBody"), "EventList")
    for event in document.events:
        event_list.append(event_element(event))
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data


def event_element(event: EpcisEvent) -> ET.Element:
    element = ET.Element(event.type_name)
    _text(element, "eventTime", event_time_text(event.event_time))
    _text(element, "eventTimeZoneOffset", event.time_zone_offset)
    _text(element, "eventID", event_id(event))
    if isinstance(event, ObjectEvent):
        _list(element, "epcList", event.epc_list)
    elif isinstance(event, AggregationEvent):
        if event.parent_id is not None:
            _text(element, "parentID", event.parent_id)
        if event.child_epcs:
            _list(element, "childEPCs", event.child_epcs)
    _text(element, "action", event.action.value)
    if event.biz_step is not None:
        _text(element, "bizStep", Vocabulary.BIZ_STEP.urn(event.biz_step))
    if event.disposition is not None:
        _text(element, "disposition", Vocabulary.DISPOSITION.urn(event.disposition))
    if event.read_point is not None:
        _text(ET.SubElement(element, "readPoint"), "id", event.read_point)
    if event.biz_location is not None:
        _text(ET.SubElement(element, "bizLocation"), "id", event.biz_location)
    if event.biz_transactions:
        transactions = ET.SubElement(element, "bizTransactionList")
        for transaction in event.biz_transactions:
            attributes = (
                {"type": Vocabulary.BIZ_TRANSACTION_TYPE.urn(transaction.type)}
                if transaction.type
                else {}
            )
            _text(transactions, "bizTransaction", transaction.id, attributes)
    for name, parties in (("source", event.sources), ("destination", event.destinations)):
        if parties:
            listed = ET.SubElement(element, f"{name}List")
            for party in parties:
                attributes = {"type": Vocabulary.SOURCE_DESTINATION_TYPE.urn(party.type)}
                _text(listed, name, party.id, attributes)
    if isinstance(event, ObjectEvent) and event.ilmd is not None:
        ilmd = ET.SubElement(element, "ilmd")
        if event.ilmd.lot_number is not None:
            _text(ilmd, f"{{{CBVMDA}}}lotNumber", event.ilmd.lot_number)
        if event.ilmd.item_expiration_date is not None:
            expiry = event.ilmd.item_expiration_date.isoformat()
            _text(ilmd, f"{{{CBVMDA}}}itemExpirationDate", expiry)
    return element


def _text(
    parent: ET.Element, tag: str, text: str, attributes: dict[str, str] | None = None
) -> None:
    ET.SubElement(parent, tag, attributes or {}).text = text


def _list(parent: ET.Element, tag: str, epcs: tuple[str, ...]) -> None:
    listed = ET.SubElement(parent, tag)
    for epc in epcs:
        _text(listed, "epc", epc)
