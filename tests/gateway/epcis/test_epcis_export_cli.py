"""`tracegate epcis export` end to end on a site file: the document it writes validates, and
it refuses, with error and fix, what it cannot do — writing nothing."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from config import load_site
from ebr.allocation import CodeAllocator
from ebr.catalog import create_batch
from ebr.journal import EventKind, Journal, JournalEvent
from gateway.cli import main
from gateway.epcis.validate import jsonld_problems, xml_problems
from gateway.site_store import open_site_store
from serialization.rules import PackagingLevel

SITE = """\
site:
  id: epcis-site
  company_name: 北京示例制药有限公司
  uscc: 91110105MA01TG8P53
  gs1_company_prefix: "9501101"
  {gln}
  timezone: Asia/Shanghai

database:
  url: sqlite:///{db}

coding_rules:
  - id: unit
    scheme: gs1
    ais: ["01", "17", "10", "21"]
    serial:
      generator: csprng
      alphabet: safe-alphanumeric
      length: 12
      planned_volume: 10_000_000
  - id: case
    scheme: sscc
    extension: 3
    serial:
      generator: csprng
      planned_volume: 1_000_000

products:
  - id: amox
    name: 阿莫西林胶囊
    gtin: "09501101530003"
    expiry:
      months: 24
    levels:
      - level: unit
        coding_rule: unit
      - level: case
        coding_rule: case
        quantity: 3

lines:
  - id: line-1
    name: 1号包装线
    products: [amox]
"""


def site_with_batch(folder: Path, *, gln: bool = True) -> tuple[Path, int, list[str]]:
    """A site file whose database holds a batch: 3 units accepted and packed in a case."""
    site = folder / "site.yaml"
    site.write_text(
        SITE.format(gln='gln: "9501101000001"' if gln else "", db=folder / "t.db"),
        encoding="utf-8",
    )
    store = open_site_store(load_site(site))
    try:
        batch = create_batch(
            store.engine, product_id="amox", line_id="line-1", lot="L-1", expiry=date(2028, 1, 31)
        )
        units = [c.key for c in CodeAllocator(store.engine).allocate("line-1", batch, 3)]
        case = CodeAllocator(store.engine).allocate("line-1", batch, 1, level=PackagingLevel.CASE)
        journal = Journal(store.engine)
        journal.append_many([JournalEvent(batch, EventKind.UNIT_ISSUED, code_key=k) for k in units])
        journal.append_many(
            [JournalEvent(batch, EventKind.UNIT_ACCEPTED, code_key=k) for k in units]
        )
        journal.append_many(
            [
                JournalEvent(
                    batch, EventKind.AGGREGATED, code_key=case[0].key, data={"children": units}
                )
            ]
        )
        assert_written(store.engine)
    finally:
        store.close()
    return site, batch, units


def assert_written(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.exec_driver_sql("select count(*) from journal_events").scalar_one() == 7


def test_export_writes_a_valid_document_in_each_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site, batch, units = site_with_batch(tmp_path)
    out = tmp_path / "batch.jsonld"
    assert main(["epcis", "export", "--config", str(site), "--batch", str(batch),
                 "--format", "jsonld", "--out", str(out)]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert f"wrote {out}: 5 EPCIS events of batch {batch}" in printed
    assert "4 commissioning, 1 packing" in printed
    body = json.loads(out.read_text(encoding="utf-8"))
    assert jsonld_problems(body) == []
    events = body["epcisBody"]["eventList"]
    assert [e["bizStep"] for e in events] == ["commissioning"] * 4 + ["packing"]
    assert events[0]["eventTimeZoneOffset"] == "+08:00"
    assert events[0]["ilmd"] == {
        "cbvmda:lotNumber": "L-1",
        "cbvmda:itemExpirationDate": "2028-01-31",
    }
    assert events[0]["epcList"] == [f"urn:epc:id:sgtin:9501101.053000.{units[0][18:]}"]

    xml_out = tmp_path / "batch.xml"
    assert main(["epcis", "export", "--config", str(site), "--batch", str(batch),
                 "--format", "xml", "--out", str(xml_out)]) == 0  # fmt: skip
    assert "validated against the official EPCIS 2.0 XSD" in capsys.readouterr().out
    assert xml_problems(xml_out.read_bytes()) == []
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_export_refuses_what_it_cannot_do_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site, batch, _ = site_with_batch(tmp_path)
    out = tmp_path / "batch.jsonld"
    out.write_text("kept", encoding="utf-8")
    args = ["epcis", "export", "--config", str(site), "--batch", str(batch), "--out"]
    assert main([*args, str(out)]) == 1
    err = capsys.readouterr().err
    assert f"error: {out} exists already" in err
    assert "fix: choose another --out; an export never overwrites" in err
    assert out.read_text(encoding="utf-8") == "kept"

    assert main([*args[:4], "--batch", "999", "--out", str(tmp_path / "x.jsonld")]) == 1
    assert "error: unknown batch 999" in capsys.readouterr().err
    assert main([*args, str(tmp_path / "no" / "x.jsonld")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main([*args, str(tmp_path / "y.jsonld"), "--id-base", "tracegate"]) == 1
    err = capsys.readouterr().err
    assert "'tracegate' cannot be the base of code URIs" in err
    assert "fix: use a URN base" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batch.jsonld", "site.yaml", "t.db"]


def test_a_site_without_gln_is_told_how_to_fix_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site, batch, _ = site_with_batch(tmp_path, gln=False)
    out = tmp_path / "batch.xml"
    assert main(["epcis", "export", "--config", str(site), "--batch", str(batch),
                 "--format", "xml", "--out", str(out)]) == 1  # fmt: skip
    err = capsys.readouterr().err
    assert "error: site epcis-site has no GLN" in err
    assert "fix: add it to the site section of the site file" in err
    assert not out.exists()
