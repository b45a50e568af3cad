"""Every event type validates against the official EPCIS 2.0 JSON schema and XSD; planted
invalid documents are refused with every problem listed, including the misspelled business
step that the official JSON schema lets through."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from jsonschema import Draft7Validator

from gateway.epcis.validate import (
    JSON_SCHEMA,
    STANDARD,
    InvalidDocumentError,
    jsonld_problems,
    validate_jsonld,
    validate_xml,
    xml_problems,
)
from serialization.epcis import (
    BizTransaction,
    EpcisDocument,
    EpcisEvent,
    Ilmd,
    Party,
    Place,
    commissioning,
    decommissioning,
    destroying,
    document_to_jsonld,
    document_to_xml,
    inspecting,
    packing,
    sampling,
    shipping,
    unpacking,
)

AT = datetime(2026, 11, 22, 9, 30, 15, 123000, tzinfo=ZoneInfo("Asia/Shanghai"))
CREATED = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
PLACE = Place.site("9501101000001", 7)
UNIT = "urn:epc:id:sgtin:9501101.053000.ABC123"
CASE = "urn:epc:id:sscc:9501101.3000000001"
SHARED = Path(__file__).resolve().parents[4] / "shared" / "standards" / "epcis"


def every_event_type() -> dict[str, EpcisEvent]:
    taken, deleted = sampling([UNIT], AT, PLACE)
    return {
        "commissioning": commissioning([UNIT], AT, PLACE, ilmd=Ilmd("AB-123", date(2027, 5, 31))),
        "commissioning of a case": commissioning([CASE], AT, PLACE),
        "packing": packing(CASE, [UNIT], AT, PLACE),
        "unpacking": unpacking(CASE, [UNIT], AT, PLACE),
        "unpacking all": unpacking(CASE, [], AT, PLACE),
        "decommissioning": decommissioning([UNIT], AT, PLACE),
        "sampling": taken,
        "sampling's DELETE": deleted,
        "destroying": destroying([UNIT], AT, PLACE),
        "shipping": shipping(
            [CASE],
            AT,
            PLACE,
            transactions=[
                BizTransaction("urn:epcglobal:cbv:bt:9501101000001:PO-4711", "po"),
                BizTransaction("urn:epcglobal:cbv:bt:9501101000001:DESADV-1", "desadv"),
            ],
            sources=[
                Party("urn:epc:id:pgln:9501101.00000", "owning_party"),
                Party("urn:epc:id:sgln:9501101.00000.0", "location"),
            ],
            destinations=[
                Party("urn:epc:id:pgln:6901234.00000", "owning_party"),
                Party("urn:epc:id:sgln:6901234.00000.0", "location"),
            ],
        ),
        "inspecting": inspecting([UNIT], AT, PLACE, disposition="conformant"),
        "private identifier": decommissioning(
            ["urn:tracegate:nmpa20:81234560000000011234"], AT, PLACE
        ),
    }


@pytest.mark.parametrize("name", list(every_event_type()))
def test_every_event_type_validates_against_the_schema_and_the_xsd(name: str) -> None:
    document = EpcisDocument([every_event_type()[name]], CREATED)
    body = document_to_jsonld(document)
    assert jsonld_problems(body) == []
    assert xml_problems(document_to_xml(document)) == []


def test_all_event_types_in_one_document() -> None:
    document = EpcisDocument(list(every_event_type().values()), CREATED)
    validate_jsonld(document_to_jsonld(document))
    validate_xml(document_to_xml(document))


def _document() -> dict[str, Any]:
    return document_to_jsonld(EpcisDocument(list(every_event_type().values()), CREATED))


def test_a_misspelled_step_passes_the_official_schema_but_not_our_check() -> None:
    body = _document()
    body["epcisBody"]["eventList"][0]["bizStep"] = "https://ref.gs1.org/cbv/BizStep-comissioning"
    schema = json.loads(JSON_SCHEMA.read_text(encoding="utf-8"))
    assert list(Draft7Validator(schema).iter_errors(body)) == []
    with pytest.raises(InvalidDocumentError) as caught:
        validate_jsonld(body)
    assert caught.value.problems == [
        "epcisBody/eventList/0/bizStep: bizStep: 'https://ref.gs1.org/cbv/BizStep-comissioning' "
        "is not a CBV 2.0 bizStep (did you mean 'commissioning', 'decommissioning' or "
        "'consigning'?; tracegate uses no private vocabulary)"
    ]
    assert "the EPCIS JSON-LD document is invalid: 1 problem(s)" in str(caught.value)


def test_planted_schema_and_vocabulary_problems_are_all_listed() -> None:
    body = _document()
    events = body["epcisBody"]["eventList"]
    events[0]["action"] = "CREATE"
    del events[2]["eventTimeZoneOffset"]
    events[9]["sourceList"][0]["type"] = "owner"
    events[9]["bizTransactionList"][0]["type"] = "purchase-order"
    events[6]["disposition"] = "sampled"
    problems = jsonld_problems(body)
    assert any(p.startswith("epcisBody/eventList/0/action") for p in problems), problems
    assert any("'eventTimeZoneOffset' is a required property" in p for p in problems), problems
    assert any(p.startswith("epcisBody/eventList/9/sourceList/0/type: ") for p in problems)
    assert any(p.startswith("epcisBody/eventList/9/bizTransactionList/0/type") for p in problems)
    assert any(p.startswith("epcisBody/eventList/6/disposition") for p in problems)
    with pytest.raises(InvalidDocumentError, match=r"problem\(s\)") as caught:
        validate_jsonld(body, hint="fix the export")
    assert caught.value.hint == "fix the export"
    assert "more)" in str(caught.value)


def test_a_document_without_context_or_with_a_bad_event_id_is_refused() -> None:
    body = _document()
    del body["@context"]
    body["epcisBody"]["eventList"][1]["eventID"] = "not a uri"
    problems = jsonld_problems(body)
    assert "(document): '@context' is a required property" in problems
    assert any(p.startswith("epcisBody/eventList/1/eventID: 'not a uri'") for p in problems)


def test_planted_xml_problems_are_refused_with_their_lines() -> None:
    data = document_to_xml(EpcisDocument(list(every_event_type().values()), CREATED))
    swapped = data.replace(b"<action>ADD</action>", b"<action>CREATE</action>", 1)
    misspelled = data.replace(b"bizstep:commissioning", b"bizstep:comissioning", 1)
    problems = xml_problems(swapped)
    assert problems
    assert problems[0].startswith("line ")
    assert "CREATE" in problems[0]
    assert xml_problems(misspelled) == [
        "line 13: bizStep: 'urn:epcglobal:cbv:bizstep:comissioning' is not a CBV 2.0 bizStep "
        "(did you mean 'commissioning', 'decommissioning' or 'consigning'?; tracegate uses no "
        "private vocabulary)"
    ]
    assert xml_problems(b"<epcis:EPCISDocument")[0].startswith("not well-formed XML")
    with pytest.raises(InvalidDocumentError, match="the EPCIS XML document is invalid"):
        validate_xml(misspelled)


def test_an_unknown_source_type_in_xml_is_refused() -> None:
    data = document_to_xml(EpcisDocument(list(every_event_type().values()), CREATED))
    planted = data.replace(b"urn:epcglobal:cbv:sdt:owning_party", b"urn:epcglobal:cbv:sdt:owner", 1)
    assert any("is not a CBV 2.0 source/destination type" in p for p in xml_problems(planted))


def test_the_artefacts_are_the_official_ones() -> None:
    """The copies shipped with the gateway are byte for byte those in ../shared/standards."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is not beside this checkout")
    for original in sorted(p for p in SHARED.rglob("*") if p.is_file()):
        copy_ = STANDARD / original.relative_to(SHARED)
        assert copy_.read_bytes() == original.read_bytes(), original.name


def test_validation_does_not_change_the_document() -> None:
    body = _document()
    before = copy.deepcopy(body)
    validate_jsonld(body)
    assert body == before
