"""EPCIS 2.0 JSON-LD: events and the EPCISDocument, with the official @context.

Standard vocabulary values are written as bare CBV terms (as the context expects), times in
the site's offset to the millisecond, ILMD as CBV master data attributes (`cbvmda:`). Every
event carries its EPCIS event hash ID as eventID.
"""

from __future__ import annotations

from typing import Any

from serialization.epcis.document import (
    SCHEMA_VERSION,
    EpcisDocument,
    creation_date_text,
    event_time_text,
)
from serialization.epcis.events import AggregationEvent, EpcisEvent, ObjectEvent
from serialization.epcis.hash_id import event_hash_id

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"


def event_body(event: EpcisEvent) -> dict[str, Any]:
    """The event's JSON-LD object without its eventID (what the event hash is taken of)."""
    body: dict[str, Any] = {
        "type": event.type_name,
        "eventTime": event_time_text(event.event_time),
        "eventTimeZoneOffset": event.time_zone_offset,
    }
    if isinstance(event, ObjectEvent):
        body["epcList"] = list(event.epc_list)
    elif isinstance(event, AggregationEvent):
        if event.parent_id is not None:
            body["parentID"] = event.parent_id
        if event.child_epcs:
            body["childEPCs"] = list(event.child_epcs)
    body["action"] = event.action.value
    if event.biz_step is not None:
        body["bizStep"] = event.biz_step
    if event.disposition is not None:
        body["disposition"] = event.disposition
    if event.read_point is not None:
        body["readPoint"] = {"id": event.read_point}
    if event.biz_location is not None:
        body["bizLocation"] = {"id": event.biz_location}
    if event.biz_transactions:
        body["bizTransactionList"] = [
            {"type": t.type, "bizTransaction": t.id} if t.type else {"bizTransaction": t.id}
            for t in event.biz_transactions
        ]
    if event.sources:
        body["sourceList"] = [{"type": s.type, "source": s.id} for s in event.sources]
    if event.destinations:
        body["destinationList"] = [
            {"type": d.type, "destination": d.id} for d in event.destinations
        ]
    if isinstance(event, ObjectEvent) and event.ilmd is not None:
        ilmd: dict[str, str] = {}
        if event.ilmd.lot_number is not None:
            ilmd["cbvmda:lotNumber"] = event.ilmd.lot_number
        if event.ilmd.item_expiration_date is not None:
            ilmd["cbvmda:itemExpirationDate"] = event.ilmd.item_expiration_date.isoformat()
        body["ilmd"] = ilmd
    return body


def event_id(event: EpcisEvent) -> str:
    return event_hash_id(event_body(event))


def event_to_jsonld(event: EpcisEvent) -> dict[str, Any]:
    """The event's JSON-LD object, eventID included (placed after the time fields)."""
    body = event_body(event)
    ordered = {key: body[key] for key in ("type", "eventTime", "eventTimeZoneOffset")}
    ordered["eventID"] = event_hash_id(body)
    ordered.update(body)
    return ordered


def document_to_jsonld(document: EpcisDocument) -> dict[str, Any]:
    return {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": SCHEMA_VERSION,
        "creationDate": creation_date_text(document.creation_date),
        "epcisBody": {"eventList": [event_to_jsonld(event) for event in document.events]},
    }
