"""`tracegate decoction`: a batch's record added from YAML and JSON files, files attached,
listed, corrected, exported as JSON and read back; refusals print the error and its fix and
record nothing."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.cli import main
from tests.ebr.decoction import decoction_fixtures as given
from tests.ebr.decoction.decoction_fixtures import jpeg, pdf
from tests.ebr.trace_fixtures import PASSWORD
from tests.gateway.trace_site import TraceSite, trace_site


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TraceSite]:
    monkeypatch.setenv("TRACEGATE_USER_PASSWORD", PASSWORD)
    made = trace_site(tmp_path)
    yield made
    made.store.close()


def _file(folder: Path, name: str, content: Any) -> Path:
    path = folder / name
    if name.endswith(".json"):
        path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")
    return path


def _ids(out: str, kind: str) -> list[int]:
    return [int(found) for found in re.findall(rf"^recorded {kind} (\d+)", out, re.MULTILINE)]


def test_a_batch_record_round_trip(
    site: TraceSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--config", str(site.path), "--batch", str(site.traced.batch)]

    def run(command: str, *rest: str, user: str = "op1") -> str:
        assert main(["decoction", command, *base, "--user", user, *rest]) == 0
        return capsys.readouterr().out

    def add(kind: str, name: str, content: Any, *rest: str, user: str = "op1") -> list[int]:
        out = run("add", kind, "--file", str(_file(tmp_path, name, content)), *rest, user=user)
        return _ids(out, kind)

    steps = [{**given.STEP, "kind": kind} for kind in ("净选", "水洗", "切制", "干燥")]
    steps.append({**given.STEP, "kind": "炮制", "method": "炙", "method_detail": "蜜炙"})
    add("production", "production.yaml", {**given.PRODUCTION, "生产批号": "L-1"})
    sources = add("herb-source", "sources.json", [given.SELF_GROWN, given.PURCHASED])
    assert len(sources) == 2
    assert len(add("process-step", "steps.yaml", steps)) == 5
    add("inspection", "qc.yaml", given.INSPECTION, user="qa1")
    (sale,) = add("sale", "sale.yaml", given.SALE)
    add("recall", "recall.yaml", given.RECALL, user="sup1")
    fixed = {**given.SALE, "quantity": {"value": 100, "unit": "kg"}}
    why = ["--corrects", str(sale), "--reason", "delivery note says 100 kg"]
    assert add("sale", "fix.json", fixed, *why) == [sale + 1]

    report = tmp_path / "QC-2611-017.pdf"
    report.write_bytes(pdf(5000))
    photo = tmp_path / "field.jpg"
    photo.write_bytes(jpeg(2000))
    out = run("attach", "--field", "product_inspection_report", str(report))
    assert ": QC-2611-017.pdf (application/pdf, 5000 bytes, SHA-256 " in out
    run("attach", "--field", "origin_photos", "--source", str(sources[0]), str(photo))

    assert main(["decoction", "list", *base]) == 0
    listing = capsys.readouterr().out
    assert "processing stir_frying_with_liquid 张三" in listing
    assert f"[corrects {sale}: delivery note says 100 kg]" in listing
    assert f"origin_photos herb source {sources[0]}: field.jpg (image/jpeg" in listing

    exported = tmp_path / "batch.json"
    assert main(["decoction", "export", *base, "--out", str(exported)]) == 0
    assert f"batch {site.traced.batch}, complete" in capsys.readouterr().out
    document = json.loads(exported.read_text(encoding="utf-8"))
    assert document["complete"] is True
    assert document["production"]["values"]["production_batch_number"] == "L-1"
    assert document["sales"][0]["values"]["quantity"] == {"value": "100", "unit": "kg"}
    assert [entry["id"] for entry in document["superseded"]] == [sale]
    assert [a["content_verified"] for a in document["attachments"]] == [True, True]

    copy = tmp_path / "copy.pdf"
    first = str(document["attachments"][0]["id"])
    command = ["decoction", "attachment", "--config", str(site.path), "--id", first]
    assert main([*command, "--out", str(copy)]) == 0
    assert copy.read_bytes() == report.read_bytes()
    assert "verified" in capsys.readouterr().out


def test_refusals_print_the_error_and_its_fix_and_record_nothing(
    site: TraceSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--config", str(site.path), "--batch", str(site.traced.batch)]
    broken = tmp_path / "broken.yaml"
    broken.write_text("herb_name: [unclosed\n", encoding="utf-8")
    missing_basic = {k: v for k, v in given.PURCHASED.items() if k != "traceable"}
    qc = _file(tmp_path, "qc.yaml", given.INSPECTION)
    source = _file(tmp_path, "s.json", missing_basic)
    for args, message in (
        (["add", "inspection", "--file", str(qc)], "op1 is operator, and only qa may record this"),
        (
            ["add", "herb-source", "--file", str(source)],
            "traceable 是否实现追溯 (traceable): is missing: a basic field (必填)",
        ),
        (["add", "herb-source", "--file", str(broken)], "broken.yaml cannot be read"),
        (
            ["attach", "--field", "product_inspection_report", str(_exe(tmp_path))],
            "the content is a Windows program (MZ executable)",
        ),
    ):
        assert main(["decoction", *args, *base, "--user", "op1"]) == 1, args
        err = capsys.readouterr().err
        assert message in err, err
        assert "  fix: " in err
    assert main(["decoction", "list", *base]) == 0
    assert capsys.readouterr().out == ""


def _exe(folder: Path) -> Path:
    path = folder / "report.pdf"
    path.write_bytes(b"MZ\x90\x00" + bytes(200))
    return path
