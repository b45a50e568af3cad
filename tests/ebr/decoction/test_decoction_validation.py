"""Records checked against seed 001 annex 1: every basic field is required per section (and per
herb source kind), extended fields are optional, the six process steps, 炮制 needs a method,
and each refusal names the field, the problem and the fix."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ebr.decoction import fields as annex
from ebr.decoction.errors import InvalidRecordError
from ebr.decoction.validation import validate
from tests.ebr.decoction import decoction_fixtures as records

SOURCES = {"self_grown": records.SELF_GROWN, "purchased": records.PURCHASED}


def _source(kind: str) -> dict[str, Any]:
    return {key: value for key, value in SOURCES[kind].items() if key != "source"}


def _problems(section: annex.Section, payload: object) -> dict[str, str]:
    with pytest.raises(InvalidRecordError) as refused:
        validate(section, payload, what="the record")
    assert "nothing was recorded" in str(refused.value.hint)
    return {problem.path: problem.problem for problem in refused.value.problems}


def _basic(section: annex.Section) -> list[str]:
    return [field.key for field in section.fields if field.required and field.entered]


def test_the_annex_basic_fields_are_transcribed() -> None:
    assert _basic(annex.SELF_GROWN) == [
        "herb_name",
        "herb_category",
        "herb_specification",
        "planting_batch_number",
        "cooperative",
    ]
    assert _basic(annex.PURCHASED) == [
        "supplier_name",
        "herb_name",
        "herb_category",
        "herb_specification",
        "genuine_region",
        "gap_managed",
        "traceable",
        "supplier_address",
    ]
    assert [f.zh for f in annex.PRODUCTION.fields if f.required] == [
        "中药饮片名称",
        "产地",
        "生产日期",
        "生产批号",
        "生产地址",
        "包装规格",
        "质检负责人信息",
        "生产工艺",
        "检验结论",
    ]
    assert [f.zh for f in annex.SALE.fields if f.required] == [
        "销售日期",
        "销售去向",
        "销售数量",
        "客户档案",
        "饮片批号",
    ]
    documents = [f for s in annex.SECTIONS.values() for f in s.attachment_fields]
    assert {f.attachment.max_bytes for f in documents if f.attachment} == {
        10 * 1024 * 1024,
        3 * 1024 * 1024,
    }


@pytest.mark.parametrize(
    ("kind", "field"),
    [(kind, key) for kind in SOURCES for key in _basic(annex.SOURCE_SECTIONS[kind])],
)
def test_every_basic_field_of_a_herb_source_is_required(kind: str, field: str) -> None:
    section = annex.SOURCE_SECTIONS[kind]
    payload = _source(kind)
    del payload[field]
    problems = _problems(section, payload)
    assert problems == {field: "is missing: a basic field (必填)"}


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(sorted(SOURCES)), data=st.data())
def test_a_source_lists_exactly_the_basic_fields_left_out(kind: str, data: st.DataObject) -> None:
    section = annex.SOURCE_SECTIONS[kind]
    left_out = data.draw(st.sets(st.sampled_from(_basic(section)), min_size=1))
    by_chinese_name = data.draw(st.sets(st.sampled_from(_basic(section))))
    payload = {
        (section.field(key).zh if key in by_chinese_name else key): value
        for key, value in _source(kind).items()
        if key not in left_out
    }
    assert set(_problems(section, payload)) == left_out


def test_extended_fields_are_optional_and_checked_when_given() -> None:
    assert validate(annex.SELF_GROWN, _source("self_grown"), what="x")["herb_category"] == "plant"
    extended = {
        **_source("self_grown"),
        "种植面积": 12.5,
        "cultivation_period": {"from": "2025-03-01", "to": "2025-10-15"},
        "storage_temperature": [2, 8],
        "farmer": {"name": "赵农", "id_type": "居民身份证", "id_number": "620000199001011234"},
        "agrochemical_records": [{"activity": "灌溉"}],
    }
    problems = _problems(annex.SELF_GROWN, extended)
    assert problems == {"farmer.address": "is missing: a basic field (必填)"}
    extended["farmer"]["address"] = "甘肃省陇西县首阳镇"
    values = validate(annex.SELF_GROWN, extended, what="x")
    assert values["planting_area"] == "12.5"
    assert values["storage_temperature"] == {"low": "2", "high": "8"}
    assert values["agrochemical_records"] == [{"activity": "irrigation"}]


def test_wrong_values_name_the_place_the_problem_and_the_fix() -> None:
    payload = {
        **_source("purchased"),
        "gap_managed": "maybe",
        "supplier_address": {"province": "甘肃省", "city": "定西市"},
        "harvest_date": "2025-13-01",
        "origin_coordinates": {**records.PLACE, "longitude": 200, "latitude": "35.0"},
        "unknown": 1,
        "pesticide_residue_result": "report.pdf",
    }
    with pytest.raises(InvalidRecordError) as refused:
        validate(annex.PURCHASED, payload, what="herb source 2 of 3")
    error = refused.value
    problems = {problem.path: problem for problem in error.problems}
    assert sorted(problems) == [
        "gap_managed",
        "harvest_date",
        "origin_coordinates.longitude",
        "pesticide_residue_result",
        "supplier_address.county",
        "supplier_address.township",
        "unknown",
    ]
    assert problems["gap_managed"].label == "是否GAP管理 (managed to GAP)"
    assert problems["gap_managed"].fix == "write 是 or 否 (yes or no)"
    assert problems["origin_coordinates.longitude"].problem == "200 is out of range (-180 to 180)"
    assert problems["pesticide_residue_result"].problem == "is not a field of this record"
    assert str(error).startswith("herb source 2 of 3 has 7 problems: ")
    file_as_value = {**_source("self_grown"), "农残检测结果": "report.pdf"}
    with pytest.raises(InvalidRecordError) as refused:
        validate(annex.SELF_GROWN, file_as_value, what="the herb source")
    assert "tracegate decoction attach --field pesticide_residue_result" in str(refused.value.hint)


@pytest.mark.parametrize("kind", [choice.zh for choice in annex.STEP_KINDS])
def test_each_process_step_kind_is_accepted(kind: str) -> None:
    step = {**records.STEP, "kind": kind}
    if kind == "炮制":
        step["method"] = "炙"
    values = validate(annex.PROCESS_STEP, step, what="x")
    assert values["kind"] in {choice.key for choice in annex.STEP_KINDS}
    assert ("method" in values) is (kind == "炮制")


def test_processing_needs_a_method_and_only_processing_has_one() -> None:
    assert _problems(annex.PROCESS_STEP, {**records.STEP, "kind": "炮制"}) == {
        "method": "is missing: needed when 工序 (kind) is 炮制"
    }
    assert _problems(annex.PROCESS_STEP, {**records.STEP, "method": "炒"}) == {
        "method": "applies only when 工序 (kind) is 炮制"
    }
    assert _problems(annex.PROCESS_STEP, {**records.STEP, "kind": "炮制", "method": "焙"}) == {
        "method": "'焙' is not one of: "
        + ", ".join(choice.label for choice in annex.PROCESSING_METHODS)
    }
    other = {**records.STEP, "kind": "processing", "method": "其他"}
    assert _problems(annex.PROCESS_STEP, other) == {
        "method_detail": "is missing: needed when 炮制方法 (method) is 其他"
    }
    values = validate(annex.PROCESS_STEP, {**other, "method_detail": "麸煨"}, what="x")
    assert (values["method"], values["method_detail"]) == ("other", "麸煨")
    for method in annex.PROCESSING_METHODS[:-1]:
        step = {**records.STEP, "kind": "炮制", "method": method.zh}
        assert validate(annex.PROCESS_STEP, step, what="x")["method"] == method.key


def test_times_and_numbers_keep_their_exact_value() -> None:
    values = validate(annex.PROCESS_STEP, records.STEP, what="x")
    assert values["started_at"] == "2026-11-01T00:00:00.000000+00:00"
    assert values["parameters"] == {"片厚": {"value": "2.5", "unit": "mm"}}
    naive = {**records.STEP, "finished_at": "2026-11-01T09:30:00"}
    assert _problems(annex.PROCESS_STEP, naive) == {
        "finished_at": "2026-11-01T09:30:00 has no UTC offset"
    }
    sale = validate(annex.SALE, {**records.SALE, "quantity": "0.10 kg"}, what="x")
    assert sale["quantity"] == {"value": "0.1", "unit": "kg"}


def test_contact_data_and_the_credit_code_are_checked() -> None:
    customer = {**records.SALE["customer"], "uscc": "91110105MA01TG8P5X", "email": "no-at-sign"}
    problems = _problems(annex.SALE, {**records.SALE, "customer": customer})
    assert problems["customer.email"] == "'no-at-sign' is not an email address"
    assert problems["customer.uscc"].startswith("'91110105MA01TG8P5X' is not a unified social")
    inspector = {"name": "秦质量", "phone": 13800138000}
    assert _problems(annex.INSPECTION, {**records.INSPECTION, "inspector": inspector}) == {
        "inspector.phone": "is the number 13800138000, not text"
    }
