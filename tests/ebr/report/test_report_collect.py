"""The report of a batch taken through its executed record on a real store (SQLite and
PostgreSQL): every step, value, correction, exception, deviation and signature is in it;
the JSON's record hash verifies and detects a change; the PDF in both languages prints every
signature's printed name, meaning and time and every value the JSON holds.

Building the store is the slow part, so one test per database reads it and checks each
promise in turn (`check_…`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ebr.errors import NotFoundError
from ebr.report import LANGUAGES, render_json, render_pdf, verify_record_hash
from ebr.report.collect import collect_report
from ebr.report.model import BatchReport
from tests.ebr.report.report_fixtures import pdf_pages, recorded_leaves, squeeze
from tests.ebr.report.report_store import RECONCILIATION, StoredBatch, stored_batch


def test_the_report_of_a_stored_batch(engine: Engine, tmp_path: Path) -> None:
    stored = stored_batch(engine)
    report = collect_report(engine, stored.batch)
    check_the_whole_executed_record_is_there(stored, report)
    check_the_record_hash_verifies_and_detects_a_change(stored, report)
    check_the_pdf_prints_every_signature_and_agrees_with_the_json(report, tmp_path)
    with pytest.raises(NotFoundError, match="unknown batch 404") as error:
        collect_report(engine, 404)
    assert error.value.hint is not None
    assert "batch id" in error.value.hint


def check_the_whole_executed_record_is_there(stored: StoredBatch, report: BatchReport) -> None:
    assert report.header.product.name == "Amoxicillin 500 mg"
    assert report.header.record_id == f"plant-1:{stored.batch}"
    assert [step.step for step in report.steps][:3] == ["header", "clearance", "materials_issued"]
    assert report.steps[-1].step == "release"
    assert [section.name for section in report.sections] == [
        "setup",
        "parameters",
        "checks",
        "review",
        "release",
    ]
    original, correction = report.entry(stored.original), report.entry(stored.correction)
    assert original is not None
    assert correction is not None
    assert (original.value, original.superseded_by, original.changed_after_first_entry) == (
        "182.5",
        stored.correction,
        False,
    )
    assert (correction.value, correction.supersedes, correction.reason) == (
        "185.0",
        stored.original,
        "读数抄错, 按仪表更正",
    )
    assert correction.changed_after_first_entry
    raised = {(item.kind, item.reference) for item in report.exceptions}
    assert raised >= {
        ("out_of_limit", str(stored.verified)),
        ("out_of_limit", str(stored.from_tag)),
        ("deviation", str(stored.manual_deviation)),
    }
    assert ("deviation", str(stored.deviation)) not in raised, "reviewed as its out_of_limit"
    assert "data_changed" in {kind for kind, _ in raised}
    assert all(item.acknowledged_by == "wangfang" and item.comment for item in report.exceptions)
    deviations = {d.id: d for d in report.deviations}
    assert deviations[stored.deviation].entry_id == stored.from_tag
    assert deviations[stored.manual_deviation].qms_reference == "QMS-DEV-2026-017"
    assert {d.status for d in report.deviations} == {"closed"}
    assert [(c.name, c.entry_id is not None) for c in report.checks] == [("label legible", True)]
    signed = {(s.username, s.meaning, s.action) for s in report.signatures}
    assert signed == {
        ("pete", "verified", "ebr_value_verification"),
        ("wangfang", "approved", "deviation_close"),
        ("wangfang", "reviewed", "batch_audit_review"),
        ("wangfang", "released", "batch_release"),
    }
    assert {p.username: p.full_name for p in report.persons}["wangfang"] == "王芳"
    assert report.reconciliation is not None
    assert report.reconciliation.counts == RECONCILIATION["counts"]
    assert report.reconciliation.recorded_by == "olga"
    assert (report.release.status, report.release.decided_by) == ("released", "wangfang")
    assert report.journal_verified


def check_the_record_hash_verifies_and_detects_a_change(
    stored: StoredBatch, report: BatchReport
) -> None:
    doc = json.loads(json.dumps(render_json(report), ensure_ascii=False))
    assert verify_record_hash(doc)
    assert render_json(collect_report(stored.engine, stored.batch)) == doc
    doc["DataSets"][0]["Entries"][0]["Value"] = "185.0"
    assert not verify_record_hash(doc)


def check_the_pdf_prints_every_signature_and_agrees_with_the_json(
    report: BatchReport, tmp_path: Path
) -> None:
    doc = render_json(report)
    recorded = list(recorded_leaves(doc))
    assert len(report.signatures) == 5
    for lang in LANGUAGES:
        path = tmp_path / f"{lang}.pdf"
        render_pdf(report, lang, path)
        pages = pdf_pages(path)
        text = "".join(pages)
        for signature in report.signatures:
            assert squeeze(signature.printed_name) in text, lang
            assert signature.meaning in text, lang
            assert signature.signed_at in text, lang
        assert [leaf for leaf in recorded if squeeze(str(leaf[1])) not in text] == [], lang
        assert all(doc["RecordHash"] in page for page in pages)
        changed = "†首次录入后修改" if lang == "zh-CN" else "†changedafterfirstentry"
        assert changed in text
