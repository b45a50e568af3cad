"""Events check themselves when made; the builders say what each site event is in CBV terms;
the JSON-LD and XML bindings say the same thing with the same eventIDs."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from serialization.epcis import (
    Action,
    AggregationEvent,
    BizTransaction,
    EpcisDocument,
    EpcisError,
    Ilmd,
    ObjectEvent,
    Party,
    Place,
    commissioning,
    decommissioning,
    destroying,
    document_to_jsonld,
    document_to_xml,
    event_id,
    inspecting,
    packing,
    sampling,
    shipping,
    unpacking,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 11, 22, 9, 30, 15, 123456, tzinfo=SHANGHAI)
PLACE = Place.site("9501101000001", 7)
UNIT = "urn:epc:id:sgtin:9501101.053000.ABC123"
UNIT_2 = "urn:epc:id:sgtin:9501101.053000.ABC124"
CASE = "urn:epc:id:sscc:9501101.3000000001"
ILMD = Ilmd("AB-123", date(2027, 5, 31))
NS = "{urn:epcglobal:epcis:xsd:2}"


def test_the_builders_use_the_cbv_steps_and_dispositions() -> None:
    taken, deleted = sampling([UNIT], AT, PLACE)
    expected = [
        (commissioning([UNIT], AT, PLACE, ilmd=ILMD), Action.ADD, "commissioning", "active"),
        (packing(CASE, [UNIT], AT, PLACE), Action.ADD, "packing", None),
        (unpacking(CASE, [], AT, PLACE), Action.DELETE, "unpacking", None),
        (decommissioning([UNIT], AT, PLACE), Action.DELETE, "decommissioning", "inactive"),
        (taken, Action.OBSERVE, "sampling", None),
        (deleted, Action.DELETE, "destroying", "destroyed"),
        (destroying([UNIT], AT, PLACE), Action.DELETE, "destroying", "destroyed"),
        (shipping([CASE], AT, PLACE), Action.OBSERVE, "shipping", "in_transit"),
        (inspecting([UNIT], AT, PLACE), Action.OBSERVE, "inspecting", None),
    ]
    for event, action, step, disposition in expected:
        assert (event.action, event.biz_step, event.disposition) == (action, step, disposition)
        assert event.read_point == event.biz_location == "urn:epc:id:sgln:9501101.00000.0"


def test_times_keep_the_offset_to_the_millisecond() -> None:
    event = commissioning([UNIT], AT, PLACE)
    assert event.event_time.microsecond == 123000
    assert event.time_zone_offset == "+08:00"
    west = commissioning([UNIT], AT.astimezone(timezone(-timedelta(hours=5, minutes=30))), PLACE)
    assert west.time_zone_offset == "-05:30"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: commissioning([UNIT], datetime(2026, 11, 22, 9, 30), PLACE), "no UTC offset"),
        (lambda: commissioning([], AT, PLACE), "names no EPC"),
        (lambda: commissioning([UNIT, UNIT], AT, PLACE), "lists an EPC twice"),
        (lambda: commissioning(["ABC 123"], AT, PLACE), "is not a URI"),
        (lambda: decommissioning([UNIT], AT, PLACE).__class__(
            event_time=AT, epc_list=(UNIT,), action=Action.DELETE, ilmd=ILMD), "only an ADD"),
        (lambda: packing(CASE, [], AT, PLACE), "adds no child"),
        (lambda: packing(CASE, [CASE], AT, PLACE), "as its own child"),
        (lambda: AggregationEvent(event_time=AT, parent_id=None, action=Action.ADD), "no parentID"),
        (lambda: ObjectEvent(event_time=AT, epc_list=(UNIT,), action="ADDED"), "is not ADD"),  # type: ignore[arg-type]
        (Ilmd, "needs a lot number or an expiry"),
        (lambda: Ilmd(" "), "lot number is empty"),
        (lambda: BizTransaction("PO 1", "po"), "is not a URI"),
        (lambda: commissioning(
            [UNIT], datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=15))), PLACE),
         "outside -14:00..\\+14:00"),
    ],
)  # fmt: skip
def test_a_malformed_event_cannot_be_made(make: object, message: str) -> None:
    assert callable(make)
    with pytest.raises(EpcisError, match=message):
        make()


def _all_events() -> list[ObjectEvent | AggregationEvent]:
    taken, deleted = sampling([UNIT_2], AT, PLACE)
    return [
        commissioning([UNIT, UNIT_2], AT, PLACE, ilmd=ILMD),
        commissioning([CASE], AT, PLACE),
        packing(CASE, [UNIT, UNIT_2], AT, PLACE),
        unpacking(CASE, [UNIT_2], AT, PLACE),
        taken,
        deleted,
        inspecting([UNIT], AT, PLACE, disposition="conformant"),
        shipping(
            [CASE],
            AT,
            PLACE,
            transactions=[BizTransaction("urn:epcglobal:cbv:bt:9501101000001:PO-1", "po")],
            sources=[Party("urn:epc:id:pgln:9501101.00000", "owning_party")],
            destinations=[Party("urn:epc:id:sgln:6901234.00000.0", "location")],
        ),
        decommissioning(["urn:tracegate:nmpa20:81234560000000011234"], AT, PLACE),
        destroying([UNIT], AT, PLACE),
    ]


def test_both_bindings_say_the_same_with_the_same_event_ids() -> None:
    events = _all_events()
    document = EpcisDocument(events, datetime(2026, 11, 22, 2, 0, tzinfo=UTC))
    body = document_to_jsonld(document)
    assert body["@context"] == ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"]
    assert (body["type"], body["schemaVersion"]) == ("EPCISDocument", "2.0")
    assert body["creationDate"] == "2026-11-22T02:00:00.000Z"
    json_events = body["epcisBody"]["eventList"]
    root = ET.fromstring(document_to_xml(document))
    assert root.tag == f"{NS}EPCISDocument"
    assert root.get("schemaVersion") == "2.0"
    event_list = root.find("EPCISBody/EventList")
    assert event_list is not None
    xml_events = list(event_list)
    assert len(json_events) == len(xml_events) == len(events)
    for event, as_json, as_xml in zip(events, json_events, xml_events, strict=True):
        assert as_json["eventID"] == as_xml.findtext("eventID") == event_id(event)
        assert as_json["type"] == as_xml.tag == event.type_name
        assert (
            as_json["eventTime"] == as_xml.findtext("eventTime") == "2026-11-22T09:30:15.123+08:00"
        )
        assert as_json["action"] == as_xml.findtext("action")
        assert f"urn:epcglobal:cbv:bizstep:{as_json['bizStep']}" == as_xml.findtext("bizStep")
        epcs = as_json.get("epcList") or as_json.get("childEPCs") or []
        assert epcs == [e.text for e in as_xml.iter("epc")]
    commissioned = json_events[0]
    assert commissioned["ilmd"] == {
        "cbvmda:lotNumber": "AB-123",
        "cbvmda:itemExpirationDate": "2027-05-31",
    }
    ilmd = xml_events[0].find("ilmd")
    assert ilmd is not None
    assert ilmd.findtext("{urn:epcglobal:cbv:mda}lotNumber") == "AB-123"
    shipped = json_events[7]
    assert shipped["bizTransactionList"] == [
        {"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:9501101000001:PO-1"}
    ]
    source = xml_events[7].find("sourceList/source")
    assert source is not None
    assert source.get("type") == "urn:epcglobal:cbv:sdt:owning_party"
    assert len({e["eventID"] for e in json_events}) == len(events)
    json.dumps(body)


def test_a_document_needs_an_aware_creation_date() -> None:
    with pytest.raises(EpcisError, match="creation date has no UTC offset"):
        EpcisDocument([], datetime(2026, 11, 22))
