"""The batch report as BatchML-shaped JSON: every part of the record is there under BatchML's
names, corrections keep the original, and the record hash seals everything else — it survives
a round trip through a file and detects any change."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ebr.report import ReportError, render_json, verify_record_hash
from ebr.report.model import BatchReport, JsonValue, Section
from tests.ebr.report.report_fixtures import entry, sample_report


def round_trip(doc: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(doc, ensure_ascii=False, indent=2))
    return loaded


def test_the_record_is_shaped_after_batchml() -> None:
    doc = render_json(sample_report())
    assert (doc["ID"], doc["BatchID"], doc["LotID"]) == ("plant-1:7", "7", "L-2026-11")
    assert (doc["EquipmentScope"], doc["EquipmentID"]) == ("plant-1", "line-1")
    assert doc["MaterialDefinitionID"] == "amox"
    assert doc["Description"] == "阿莫西林胶囊"
    assert doc["Header"]["GTIN"] == "09501101530003"
    assert doc["Header"]["OrderID"] == "PO-2026-0815"
    assert doc["ControlRecipes"] == [
        {"ID": "amox-pack", "Name": "阿莫西林包装规程", "Version": "3", "Hash": "cd" * 32}
    ]
    assert doc["RecordStatus"] == "released"
    steps = [e for e in doc["Events"] if e["EventType"] == "Procedural Execution"]
    assert [(e["ProceduralElementReference"], e["PersonID"]) for e in steps] == [
        ("header", "olga"),
        ("clearance", "pete"),
    ]
    alarms = [e for e in doc["Events"] if e["EventType"] == "Alarm"]
    assert [(a["AlarmData"]["AlarmType"], a["Acknowledged"]) for a in alarms] == [
        ("out_of_limit", True),
        ("missed_check", False),
    ]
    assert doc["Comments"] == [
        {
            "ExceptionID": 1,
            "CommentText": "速度超限已评估, 无质量影响",
            "PersonID": "quinn",
            "TimeStamp": "2026-11-22T08:30:00.000000+00:00",
        }
    ]
    assert [s["ID"] for s in doc["DataSets"]] == ["setup", "parameters", "checks"]
    assert doc["Deviations"][0]["ExternalReference"] == "QMS-DEV-2026-017"
    assert [s["Name"] for s in doc["Signatures"]] == ["Olga Operator", "王芳", "Quinn QA"]
    assert doc["Signatures"][2]["RecordReference"] == "batch:7"
    assert doc["Signatures"][2]["ChangeIndication"] == "03" * 32
    assert doc["PersonnelIdentification"][1] == {"PersonID": "pete", "Name": "王芳"}
    assert doc["Counts"]["issued"] == 5010
    assert doc["Reconciliation"]["Balanced"] is True


def test_a_correction_keeps_the_original_and_is_marked() -> None:
    doc = render_json(sample_report())
    setup = {e["EntryID"]: e for e in doc["DataSets"][0]["Entries"]}
    assert (setup[3]["Value"], setup[3]["SupersededBy"], setup[3]["ChangedAfterFirstEntry"]) == (
        12,
        4,
        False,
    )
    assert (setup[4]["Value"], setup[4]["Supersedes"], setup[4]["ChangedAfterFirstEntry"]) == (
        11,
        3,
        True,
    )
    assert doc["ChangeHistory"] == [
        {
            "RecordReference": 4,
            "PreChangeRecordReference": 3,
            "PreChangeData": 12,
            "Reason": "读数抄错, 按复核更正",
            "PersonID": "olga",
            "TimeStamp": "2026-11-22T08:09:00.000000+00:00",
        }
    ]


def test_checks_are_sample_tests_with_their_results() -> None:
    tests = render_json(sample_report())["SampleTests"]
    assert [(t["TestName"], t["EntryID"], t["Results"]) for t in tests] == [
        ("label_legible", 6, True),
        ("label_legible", None, None),
    ]


def test_an_order_less_batch_has_no_control_recipe() -> None:
    report = sample_report()
    bare = replace(report, header=replace(report.header, control_recipe=None, order_number=None))
    doc = render_json(bare)
    assert doc["ControlRecipes"] == []
    assert doc["Header"]["OrderID"] is None


def test_the_record_hash_is_sha256_of_the_canonical_json_of_the_rest() -> None:
    doc = render_json(sample_report())
    body = {key: value for key, value in doc.items() if key != "RecordHash"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert doc["RecordHash"] == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert verify_record_hash(round_trip(doc))
    assert render_json(sample_report()) == doc


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d["DataSets"][0]["Entries"][1].update(Value=183.5),
        lambda d: d["Signatures"][0].update(TimeStamp="2026-11-22T07:00:00.000000+00:00"),
        lambda d: d["Comments"].clear(),
        lambda d: d.pop("Deviations"),
        lambda d: d.update(Extra="added"),
        lambda d: d.update(RecordHash="0" * 64),
        lambda d: d.pop("RecordHash"),
    ],
    ids=[
        "value",
        "signature time",
        "comment dropped",
        "part dropped",
        "part added",
        "hash",
        "no hash",
    ],
)
def test_any_change_breaks_the_record_hash(tamper: Any) -> None:
    doc = round_trip(render_json(sample_report()))
    tamper(doc)
    assert not verify_record_hash(doc)


def test_a_value_json_cannot_carry_is_refused_with_a_fix() -> None:
    report = sample_report()
    bad = replace(report, sections=(Section("setup", (entry(1, "setup", "t", float("nan")),)),))
    with pytest.raises(ReportError, match="JSON cannot carry") as error:
        render_json(bad)
    assert error.value.hint is not None
    assert "NaN" in error.value.hint


JSON_VALUES: st.SearchStrategy[JsonValue] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


def with_value(report: BatchReport, value: JsonValue) -> BatchReport:
    section = report.sections[0]
    first = replace(section.entries[0], value=value)
    changed = replace(section, entries=(first, *section.entries[1:]))
    return replace(report, sections=(changed, *report.sections[1:]))


@settings(max_examples=60, deadline=None)
@given(value=JSON_VALUES, other=JSON_VALUES)
def test_every_recorded_value_survives_a_file_and_is_covered_by_the_hash(
    value: JsonValue, other: JsonValue
) -> None:
    report = with_value(sample_report(), value)
    doc = round_trip(render_json(report))
    assert verify_record_hash(doc)
    doc["DataSets"][0]["Entries"][0]["Value"] = other
    same = json.dumps(other, sort_keys=True) == json.dumps(value, sort_keys=True)
    assert verify_record_hash(doc) is same
