"""The platform relation file: built from the store, valid against tracegate's XSD of the
layout, and planted faults in a file are found."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from lxml import etree
from sqlalchemy import Engine

from ebr.errors import NotFoundError
from gateway.platform_exchange.relations import (
    ExportOptions,
    PlatformExportError,
    export_relations,
    relation_problems,
)
from tests.ebr.trace_fixtures import TracedBatch, traced_batch

CREATED = datetime(2026, 11, 29, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def traced(engine: Engine) -> TracedBatch:
    return traced_batch(engine)


def _codes(data: bytes) -> list[tuple[str, str, str | None]]:
    root = etree.fromstring(data)
    return [
        (str(c.get("curCode")), str(c.get("packLayer")), c.get("parentCode"))
        for c in root.iterfind("Product/Batch/Code")
    ]


def test_the_file_holds_enterprise_product_batch_and_relations(traced: TracedBatch) -> None:
    result = export_relations(
        traced.engine, traced.batch, ExportOptions(CREATED, operator="秦质量")
    )
    assert relation_problems(result.data) == []
    assert result.layers == {"unit": 1, "case": 2, "pallet": 3}
    root = etree.fromstring(result.data)
    assert root.attrib == {
        "corpName": "北京示例制药有限公司",
        "manCode": "91110105MA01TG8P53",
        "dataType": "relation",
        "version": "1.0",
        "createTime": "2026-11-29 09:30:00",
    }
    product = root.find("Product")
    assert product is not None
    assert dict(product.attrib) == {
        "productCode": "8612345",
        "productName": "阿莫西林胶囊",
        "cascade": "3",
    }
    batch = root.find("Product/Batch")
    assert batch is not None
    assert dict(batch.attrib) == {
        "batchNo": "L-1",
        "produceDate": "2026-11-01",
        "expireDate": "2028-01-31",
        "operator": "秦质量",
        "oprDate": "2026-11-29",
        "count": "14",
    }
    codes = _codes(result.data)
    assert codes[0] == (traced.pallets[0], "3", None)
    layers = {code: layer for code, layer, _ in codes}
    parents = {code: parent for code, _, parent in codes}
    assert parents[traced.cases[0]] == traced.pallets[0]
    assert parents[traced.cases[2]] is None
    assert parents[traced.units[5]] == traced.cases[1]
    assert layers[traced.units[5]] == "1"
    assert traced.units[8] not in parents
    assert traced.units[9] not in parents
    assert not set(traced.voided) & set(parents)
    assert result.data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")


def test_what_cannot_be_exported_is_refused(traced: TracedBatch) -> None:
    with pytest.raises(PlatformExportError, match="is running") as running:
        export_relations(traced.engine, traced.other_batch, ExportOptions(CREATED))
    assert running.value.hint
    with pytest.raises(NotFoundError, match="unknown batch 999"):
        export_relations(traced.engine, 999, ExportOptions(CREATED))


def _planted(data: bytes, change: str) -> bytes:
    root = etree.fromstring(data)
    codes = root.findall("Product/Batch/Code")
    if change == "child first":
        batch = codes[0].getparent()
        assert batch is not None
        batch.remove(codes[0])
        batch.append(codes[0])
    elif change == "same layer parent":
        codes[-1].set("packLayer", "2")
    elif change == "unknown parent":
        codes[-1].set("parentCode", "00395011010000000000")
    elif change == "twice":
        codes[-1].set("curCode", str(codes[-2].get("curCode")))
    elif change == "no codes":
        for code in codes:
            code.getparent().remove(code)  # type: ignore[union-attr]
    elif change == "bad date":
        root.find("Product/Batch").set("produceDate", "2026/11/01")  # type: ignore[union-attr]
    elif change == "no product code":
        del root.find("Product").attrib["productCode"]  # type: ignore[union-attr]
    return etree.tostring(root)


@pytest.mark.parametrize(
    ("change", "found"),
    [
        ("child first", "comes before its parent"),
        ("same layer parent", "not a higher one"),
        ("unknown parent", "parentInFile"),
        ("twice", "oneCodeOnce"),
        ("no codes", "Code"),
        ("bad date", "produceDate"),
        ("no product code", "productCode"),
    ],
)
def test_planted_faults_are_found(traced: TracedBatch, change: str, found: str) -> None:
    data = export_relations(traced.engine, traced.batch, ExportOptions(CREATED)).data
    problems = relation_problems(_planted(data, change))
    assert problems, change
    assert found in problems[0], problems


def test_a_file_that_is_no_xml_is_named() -> None:
    assert "not well-formed XML" in relation_problems(b"<DataList")[0]
