"""`tracegate ebr report`: writes the batch report as PDF (both languages) and as JSON whose
record hash verifies and matches the PDF's; refuses an unknown batch and a file it cannot
write with a message that says how to fix it, writing nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ebr.report import verify_record_hash
from gateway.cli import main
from tests.ebr.report.report_fixtures import pdf_pages
from tests.gateway.trace_site import TraceSite, trace_site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TraceSite]:
    made = trace_site(tmp_path_factory.mktemp("site"))
    yield made
    made.store.close()


def report(site: TraceSite, *extra: str) -> list[str]:
    return ["ebr", "report", "--config", str(site.path), "--batch", str(site.traced.batch), *extra]


def test_json_and_pdf_in_both_languages_carry_one_record_hash(
    site: TraceSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    json_file = tmp_path / "batch.json"
    assert main(report(site, "--format", "json", "--out", str(json_file))) == 0
    out = capsys.readouterr().out
    doc = json.loads(json_file.read_text(encoding="utf-8"))
    assert verify_record_hash(doc)
    assert doc["BatchID"] == str(site.traced.batch)
    assert doc["Description"] == "阿莫西林胶囊"
    assert f"record hash: {doc['RecordHash']}" in out
    assert doc["Counts"]["accepted"] > 0

    for lang, banner in (("zh-CN", "批包装记录"), ("en", "Batchpackagingrecord")):
        pdf = tmp_path / f"batch-{lang}.pdf"
        argv = report(site, "--format", "pdf", "--lang", lang, "--out", str(pdf))
        assert main(argv) == 0
        assert f"({'pdf, ' + lang})" in capsys.readouterr().out
        pages = pdf_pages(pdf)
        assert all(doc["RecordHash"] in page and banner in page for page in pages)
        assert "阿莫西林胶囊" in "".join(pages)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "batch-en.pdf",
        "batch-zh-CN.pdf",
        "batch.json",
    ]


def test_an_unknown_batch_is_refused_and_nothing_written(
    site: TraceSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.pdf"
    argv = ["ebr", "report", "--config", str(site.path), "--batch", "999"]
    assert main([*argv, "--format", "pdf", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "error: unknown batch 999" in err
    assert "fix: check the batch id" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where", ["missing folder", "a folder", "under a file"])
def test_a_file_that_cannot_be_written_is_refused_before_reading(
    site: TraceSite, tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    target = {
        "missing folder": tmp_path / "nowhere" / "r.json",
        "a folder": tmp_path,
        "under a file": tmp_path / "plain.txt" / "r.json",
    }[where]
    (tmp_path / "plain.txt").write_text("not a folder", encoding="utf-8")
    assert main(report(site, "--format", "json", "--out", str(target))) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "fix: " in err
    assert not target.is_file()
