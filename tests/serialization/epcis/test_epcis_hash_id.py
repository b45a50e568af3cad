"""The EPCIS event hash ID: the GS1 reference vector, and its documented properties — the order
of list elements and of JSON keys, and the spelling of a value, do not change it; any change
of a field does."""

from __future__ import annotations

import copy
import hashlib
import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serialization.epcis import EpcisError, event_hash_id, pre_hash_string
from serialization.epcis.cbv_terms import (
    BIZ_STEPS,
    BIZ_TRANSACTION_TYPES,
    DISPOSITIONS,
    SOURCE_DESTINATION_TYPES,
)
from serialization.epcis.identifiers import canonical_digital_link

EXAMPLE_9_6_1_EVENT_1 = {
    "type": "ObjectEvent",
    "eventTime": "2005-04-03T20:33:31.116000-06:00",
    "eventTimeZoneOffset": "-06:00",
    "epcList": ["urn:epc:id:sgtin:0614141.107346.2017", "urn:epc:id:sgtin:0614141.107346.2018"],
    "action": "OBSERVE",
    "bizStep": "shipping",
    "disposition": "in_transit",
    "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234"},
    "bizTransactionList": [
        {"type": "po", "bizTransaction": "http://transaction.acme.com/po/12345678"}
    ],
}
"""The first event of the EPCIS 2.0 standard's Example_9.6.1-ObjectEvent.jsonld."""

EXAMPLE_9_6_1_EVENT_1_HASH = (
    "ni:///sha-256;df6523665bc5e5803d6c7b84f5a04e103694d8220f2abc4f2c74310e89f31bc6?ver=CBV2.0"
)
"""Its hash ID by the GS1 reference implementation (RalphTro/epcis-event-hash-generator, CBV 2.0
algorithm), as the OpenTraceability project's EventHashGeneratorTests records it."""

EXAMPLE_9_6_1_EVENT_1_PRE_HASH = (
    "eventType=ObjectEventeventTime=2005-04-04T02:33:31.116ZeventTimeZoneOffset=-06:00"
    "epcListepc=https://id.gs1.org/01/10614141073464/21/2017"
    "epc=https://id.gs1.org/01/10614141073464/21/2018action=OBSERVE"
    "bizStep=https://ref.gs1.org/cbv/BizStep-shipping"
    "disposition=https://ref.gs1.org/cbv/Disp-in_transit"
    "readPointid=https://id.gs1.org/414/0614141073467/254/1234"
    "bizTransactionListtype=https://ref.gs1.org/cbv/BTT-po"
    "bizTransaction=http://transaction.acme.com/po/12345678"
)
"""The same event's pre-hash string as the openepcis and epcis2.js implementations print it."""


def test_the_gs1_reference_vector() -> None:
    assert pre_hash_string(EXAMPLE_9_6_1_EVENT_1) == EXAMPLE_9_6_1_EVENT_1_PRE_HASH
    assert event_hash_id(EXAMPLE_9_6_1_EVENT_1) == EXAMPLE_9_6_1_EVENT_1_HASH
    digest = hashlib.sha256(EXAMPLE_9_6_1_EVENT_1_PRE_HASH.encode()).hexdigest()
    assert f"ni:///sha-256;{digest}?ver=CBV2.0" == EXAMPLE_9_6_1_EVENT_1_HASH


def test_ilmd_sources_and_aggregations_in_the_reference_forms() -> None:
    event = {
        "type": "ObjectEvent",
        "eventTime": "2019-10-21T14:58:56Z",
        "eventTimeZoneOffset": "+02:00",
        "epcList": ["urn:epc:id:sgtin:4047023.077551.98"],
        "action": "ADD",
        "bizStep": "commissioning",
        "sourceList": [
            {"type": "possessing_party", "source": "urn:epc:id:pgln:4000001.00012"},
            {"type": "owning_party", "source": "urn:epc:id:pgln:4000001.00012"},
        ],
        "ilmd": {"cbvmda:lotNumber": "0123", "cbvmda:itemExpirationDate": "2019-10-21"},
    }
    assert pre_hash_string(event) == (
        "eventType=ObjectEventeventTime=2019-10-21T14:58:56.000ZeventTimeZoneOffset=+02:00"
        "epcListepc=https://id.gs1.org/01/04047023775511/21/98action=ADD"
        "bizStep=https://ref.gs1.org/cbv/BizStep-commissioning"
        "sourceListtype=https://ref.gs1.org/cbv/SDT-owning_partysource=https://id.gs1.org/417/4000001000128"
        "type=https://ref.gs1.org/cbv/SDT-possessing_partysource=https://id.gs1.org/417/4000001000128"
        "ilmd{urn:epcglobal:cbv:mda}itemExpirationDate=2019-10-21"
        "{urn:epcglobal:cbv:mda}lotNumber=0123"
    )  # fmt: skip
    aggregation = {
        "type": "AggregationEvent",
        "eventTime": "2019-10-21T11:58:56.591+02:00",
        "eventTimeZoneOffset": "+02:00",
        "parentID": "urn:epc:id:sscc:4012344.0111111144",
        "childEPCs": [],
        "action": "DELETE",
        "bizStep": "unpacking",
    }
    assert pre_hash_string(aggregation) == (
        "eventType=AggregationEventeventTime=2019-10-21T09:58:56.591ZeventTimeZoneOffset=+02:00"
        "parentID=https://id.gs1.org/00/040123441111111449action=DELETE"
        "bizStep=https://ref.gs1.org/cbv/BizStep-unpacking"
    )


def test_fields_outside_the_hash_are_ignored_and_unknown_ones_refused() -> None:
    event = copy.deepcopy(EXAMPLE_9_6_1_EVENT_1)
    event.update(
        {
            "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
            "eventID": "ni:///sha-256;00?ver=CBV2.0",
            "recordTime": "2026-01-01T00:00:00Z",
            "certificationInfo": "https://cert.example/1",
        }
    )
    assert event_hash_id(event) == EXAMPLE_9_6_1_EVENT_1_HASH
    for field, value in (("quantityList", []), ("example:myField", "x")):
        with pytest.raises(EpcisError, match=f"does not implement {field}"):
            pre_hash_string({**EXAMPLE_9_6_1_EVENT_1, field: value})
    with pytest.raises(EpcisError, match="has no type"):
        pre_hash_string({"eventTime": "2005-04-03T20:33:31Z"})
    with pytest.raises(EpcisError, match="has no UTC offset"):
        pre_hash_string({**EXAMPLE_9_6_1_EVENT_1, "eventTime": "2005-04-03T20:33:31"})
    with pytest.raises(EpcisError, match="not a cbvmda: attribute"):
        pre_hash_string({**EXAMPLE_9_6_1_EVENT_1, "ilmd": {"example:batch": "1"}})


SERIALS = st.text("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ", min_size=1, max_size=12)
OFFSETS = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
TIMES = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
).map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))


def _offset_text(zone: timezone) -> str:
    minutes = int(zone.utcoffset(None).total_seconds()) // 60
    return f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    zone = draw(OFFSETS)
    moment = draw(TIMES).astimezone(zone)
    serials = draw(st.lists(SERIALS, min_size=1, max_size=6, unique=True))
    event: dict[str, Any] = {
        "type": draw(st.sampled_from(["ObjectEvent", "AggregationEvent"])),
        "eventTime": moment.isoformat(timespec="milliseconds"),
        "eventTimeZoneOffset": _offset_text(zone),
        "action": draw(st.sampled_from(["ADD", "OBSERVE", "DELETE"])),
        "bizStep": draw(st.sampled_from(sorted(BIZ_STEPS))),
        "readPoint": {"id": "urn:epc:id:sgln:9501101.00000.0"},
    }
    epcs = [f"urn:epc:id:sgtin:9501101.053000.{serial}" for serial in serials]
    if event["type"] == "ObjectEvent":
        event["epcList"] = epcs
        if draw(st.booleans()):
            event["ilmd"] = {
                "cbvmda:lotNumber": draw(SERIALS),
                "cbvmda:itemExpirationDate": "2027-05-31",
            }
    else:
        event["parentID"] = f"urn:epc:id:sscc:9501101.3{draw(st.integers(0, 10**8)):09d}"
        event["childEPCs"] = epcs
    if draw(st.booleans()):
        event["disposition"] = draw(st.sampled_from(sorted(DISPOSITIONS)))
    if draw(st.booleans()):
        event["bizLocation"] = {"id": "urn:epc:id:sgln:9501101.00000.0"}
    numbers = draw(st.lists(st.integers(1, 999), max_size=3, unique=True))
    if numbers:
        event["bizTransactionList"] = [
            {
                "type": draw(st.sampled_from(sorted(BIZ_TRANSACTION_TYPES))),
                "bizTransaction": f"urn:epcglobal:cbv:bt:9501101000001:{n}",
            }
            for n in numbers
        ]
    for name in ("source", "destination"):
        types = draw(st.lists(st.sampled_from(sorted(SOURCE_DESTINATION_TYPES)), unique=True))
        if types:
            event[f"{name}List"] = [
                {"type": kind, name: "urn:epc:id:pgln:9501101.00000"} for kind in types
            ]
    return event


def _shuffled(value: Any, rng: random.Random) -> Any:
    """The same JSON value with every object's keys and every list's elements reordered."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {key: _shuffled(item, rng) for key, item in items}
    if isinstance(value, list):
        items = [_shuffled(item, rng) for item in value]
        rng.shuffle(items)
        return items
    return value


@settings(max_examples=200, deadline=None)
@given(event=events(), seed=st.integers(0, 2**32 - 1))
def test_order_of_keys_and_of_list_elements_does_not_change_the_hash(
    event: dict[str, Any], seed: int
) -> None:
    assert event_hash_id(_shuffled(event, random.Random(seed))) == event_hash_id(event)


@settings(max_examples=150, deadline=None)
@given(event=events(), zone=OFFSETS)
def test_the_spelling_of_a_value_does_not_change_the_hash(
    event: dict[str, Any], zone: timezone
) -> None:
    respelled = copy.deepcopy(event)
    moment = datetime.fromisoformat(event["eventTime"])
    respelled["eventTime"] = moment.astimezone(zone).isoformat(timespec="microseconds")
    respelled["bizStep"] = f"urn:epcglobal:cbv:bizstep:{event['bizStep']}"
    if "disposition" in event:
        respelled["disposition"] = f"https://ref.gs1.org/cbv/Disp-{event['disposition']}"
    for name in ("epcList", "childEPCs"):
        if name in event:
            respelled[name] = [canonical_digital_link(epc) for epc in event[name]]
    for transaction in respelled.get("bizTransactionList", []):
        transaction["type"] = f"urn:epcglobal:cbv:btt:{transaction['type']}"
    assert event_hash_id(respelled) == event_hash_id(event)


def _changes(event: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """One single-field change of `event` per field it has, each a different event."""
    changes: list[tuple[str, dict[str, Any]]] = []

    def change(what: str, edit: Any) -> None:
        changed = copy.deepcopy(event)
        edit(changed)
        changes.append((what, changed))

    later = datetime.fromisoformat(event["eventTime"]) + timedelta(milliseconds=1)
    change("eventTime", lambda e: e.update(eventTime=later.isoformat(timespec="milliseconds")))
    flipped = "+14:00" if event["eventTimeZoneOffset"] != "+14:00" else "-14:00"
    change("eventTimeZoneOffset", lambda e: e.update(eventTimeZoneOffset=flipped))
    change("type", lambda e: e.update(type=e["type"] + "X"))
    action = "OBSERVE" if event["action"] != "OBSERVE" else "ADD"
    change("action", lambda e: e.update(action=action))
    step = "packing" if event["bizStep"] != "packing" else "unpacking"
    change("bizStep", lambda e: e.update(bizStep=step))
    change("readPoint", lambda e: e.update(readPoint={"id": "urn:epc:id:sgln:9501101.00000.1"}))
    listed = "epcList" if "epcList" in event else "childEPCs"
    change(f"{listed}+", lambda e: e[listed].append("urn:epc:id:sgtin:9501101.053000.NEW-1"))
    change(f"{listed}~", lambda e: e[listed].__setitem__(0, e[listed][0] + "0"))
    if len(event[listed]) > 1:
        change(f"{listed}-", lambda e: e[listed].pop())
    if "parentID" in event:
        change(
            "parentID",
            lambda e: e.update(
                parentID=e["parentID"][:-2] + ("77" if e["parentID"][-2:] != "77" else "78")
            ),
        )
    if "disposition" in event:
        change("disposition", lambda e: e.pop("disposition"))
    if "bizLocation" in event:
        change("bizLocation", lambda e: e.pop("bizLocation"))
    if "ilmd" in event:
        change("ilmd lot", lambda e: e["ilmd"].update({"cbvmda:lotNumber": "other"}))
        expiry = {"cbvmda:itemExpirationDate": "2027-06-30"}
        change("ilmd expiry", lambda e: e["ilmd"].update(expiry))
    for name, item in (("bizTransactionList", "bizTransaction"), ("sourceList", "source"),
                       ("destinationList", "destination")):  # fmt: skip
        if name in event:
            change(f"{name} id", lambda e, n=name, i=item: e[n][0].update({i: "urn:x:other"}))
            change(f"{name} type", lambda e, n=name: e[n][0].pop("type"))
            change(f"{name}-", lambda e, n=name: e.pop(n))
    return changes


@settings(max_examples=150, deadline=None)
@given(event=events())
def test_any_change_of_a_field_changes_the_hash(event: dict[str, Any]) -> None:
    original = event_hash_id(event)
    seen = {original: "original"}
    for what, changed in _changes(event):
        digest = event_hash_id(changed)
        assert digest not in seen, f"{what} gives the same hash as {seen[digest]}"
        seen[digest] = what
