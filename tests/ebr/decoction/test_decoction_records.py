"""A batch's decoction pieces record on SQLite and PostgreSQL: every kind recorded and audited in
the same transaction, refusals that write nothing, corrections that supersede with a reason, a
database that refuses changes, and attachments whose hash is checked on every read."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from ebr.audit.models import AuditEntry
from ebr.decoction.errors import (
    AttachmentCorruptError,
    AttachmentRejectedError,
    DecoctionError,
    InvalidRecordError,
    RecordConflictError,
)
from ebr.decoction.export import export_batch
from ebr.decoction.fields import MIB, STEP_KINDS
from ebr.decoction.models import (
    APPEND_ONLY_TABLES,
    AttachmentContentRow,
    ProcessStepRow,
    SaleRow,
)
from ebr.decoction.record_types import RecordType
from ebr.errors import NotFoundError
from ebr.users import PermissionDeniedError
from tests.ebr.audit.audit_fixtures import behind_the_triggers
from tests.ebr.decoction import decoction_fixtures as given
from tests.ebr.decoction.decoction_fixtures import DecoctionSite, decoction_site, jpeg, pdf


@pytest.fixture
def site(engine: Engine) -> DecoctionSite:
    return decoction_site(engine)


def _steps() -> list[dict[str, Any]]:
    steps = [{**given.STEP, "kind": choice.zh} for choice in STEP_KINDS]
    steps[-1]["method"] = "炒"
    return steps


def _audit_head(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(AuditEntry)).scalar_one())


def _rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return sum(
            int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in APPEND_ONLY_TABLES
        )


def test_a_complete_record_of_every_kind_is_audited_and_exported(site: DecoctionSite) -> None:
    records, batch = site.records, site.batch
    assert [entry["field"] for entry in export_batch(records, batch)["missing"]] == [
        "product_name",
        "origin",
        "production_date",
        "production_address",
        "packaging_specification",
        "source",
        "quality_manager",
        "process",
        "inspection_conclusion",
    ]
    production = records.add(site.operator, batch, RecordType.PRODUCTION, given.PRODUCTION)
    sources = records.add_many(
        site.operator, batch, RecordType.HERB_SOURCE, [given.SELF_GROWN, given.PURCHASED]
    )
    steps = records.add_many(site.operator, batch, RecordType.PROCESS_STEP, _steps())
    inspection = records.add(site.qa, batch, RecordType.INSPECTION, given.INSPECTION)
    sale = records.add(site.operator, batch, RecordType.SALE, given.SALE)
    recall = records.add(site.supervisor, batch, RecordType.RECALL, given.RECALL)

    document = export_batch(records, batch)
    assert (document["complete"], document["missing"], document["problems"]) == (True, [], [])
    assert document["batch"]["lot"] == given.LOT
    assert document["production"]["values"]["production_batch_number"] == given.LOT
    assert [s["values"]["source"] for s in document["herb_sources"]] == ["self_grown", "purchased"]
    assert [
        (s["values"]["kind"], s["values"].get("method")) for s in document["process_steps"]
    ] == [
        ("cleaning", None),
        ("washing", None),
        ("moistening", None),
        ("cutting", None),
        ("drying", None),
        ("processing", "stir_frying"),
    ]
    assert document["inspection"]["values"]["conclusion"] == "qualified"
    assert document["sales"][0]["values"]["quantity"] == {"value": "120", "unit": "kg"}
    assert document["recalls"][0]["values"]["reason"] == "二氧化硫残留超标"
    assert document["recalls"][0]["recorded_by"] == "sup1"

    with site.engine.connect() as conn:
        assert conn.execute(select(SaleRow.customer_name, SaleRow.quantity)).one() == (
            "济南市中医医院",
            "120",
        )
        assert conn.execute(
            select(ProcessStepRow.method).where(ProcessStepRow.kind == "processing")
        ).scalar_one() == ("stir_frying")
    audited = {
        (entry.event, entry.object_id, entry.username, entry.action)
        for entry in site.trail.entries()
        if entry.event.startswith("decoction.")
    }
    assert audited == {
        ("decoction.production_recorded", str(production.id), "op1", "create"),
        *{("decoction.herb_source_recorded", str(s.id), "op1", "create") for s in sources},
        *{("decoction.process_step_recorded", str(s.id), "op1", "create") for s in steps},
        ("decoction.inspection_recorded", str(inspection.id), "qa1", "create"),
        ("decoction.sale_recorded", str(sale.id), "op1", "create"),
        ("decoction.recall_recorded", str(recall.id), "sup1", "create"),
    }
    (entry,) = site.trail.entries(object_type="decoction_inspection")
    assert entry.new == {"batch_id": batch, **inspection.values}


def test_refusals_say_why_and_write_nothing(site: DecoctionSite) -> None:
    records, batch, op = site.records, site.batch, site.operator
    records.add(op, batch, RecordType.PRODUCTION, given.PRODUCTION)
    rows, audit = _rows(site.engine), _audit_head(site.engine)

    def refused(error: type[Exception], *args: Any) -> str:
        with pytest.raises(error) as caught:
            records.add(*args)
        return str(caught.value)

    wrong_lot = {**given.PRODUCTION, "生产批号": "OTHER"}
    assert "comes from the batch ('YP-2611-01')" in refused(
        InvalidRecordError, op, batch, RecordType.PRODUCTION, wrong_lot
    )
    assert "already has its production record" in refused(
        RecordConflictError, op, batch, RecordType.PRODUCTION, given.PRODUCTION
    )
    no_kind = {k: v for k, v in given.PURCHASED.items() if k != "source"}
    assert "source 药材来源 (herb source): must say where the herbs came from" in refused(
        InvalidRecordError, op, batch, RecordType.HERB_SOURCE, no_kind
    )
    for source, basic in ((given.SELF_GROWN, "cooperative"), (given.PURCHASED, "gap_managed")):
        payload = {k: v for k, v in source.items() if k != basic}
        assert f"{basic} " in refused(
            InvalidRecordError, op, batch, RecordType.HERB_SOURCE, payload
        )
    unprocessed = {**given.STEP, "kind": "炮制"}
    assert "method 炮制方法 (processing method): is missing" in refused(
        InvalidRecordError, op, batch, RecordType.PROCESS_STEP, unprocessed
    )
    backwards = {**given.STEP, "finished_at": "2026-11-01T07:00:00+08:00"}
    assert "is before the start" in refused(
        InvalidRecordError, op, batch, RecordType.PROCESS_STEP, backwards
    )
    with pytest.raises(InvalidRecordError) as second_bad:
        records.add_many(op, batch, RecordType.PROCESS_STEP, [given.STEP, unprocessed])
    assert str(second_bad.value).startswith("process step 2 of 2 has 1 problem")
    assert "op1 is operator, and only qa may record this (inspection conclusion)" in refused(
        PermissionDeniedError, op, batch, RecordType.INSPECTION, given.INSPECTION
    )
    assert "op1 is operator, and only qa or supervisor may record this (recall)" in refused(
        PermissionDeniedError, op, batch, RecordType.RECALL, given.RECALL
    )
    assert "batch 999 does not exist" in refused(
        NotFoundError, op, 999, RecordType.SALE, given.SALE
    )
    assert (_rows(site.engine), _audit_head(site.engine)) == (rows, audit)


def test_corrections_supersede_the_current_version_and_the_database_refuses_changes(
    site: DecoctionSite,
) -> None:
    records, batch = site.records, site.batch
    first = records.add(site.qa, batch, RecordType.INSPECTION, given.INSPECTION)
    with pytest.raises(DecoctionError, match="needs a reason"):
        records.correct(site.qa, RecordType.INSPECTION, first.id, given.INSPECTION, reason=" ")
    fixed = {**given.INSPECTION, "report_number": "QC-2611-018"}
    second = records.correct(
        site.qa, RecordType.INSPECTION, first.id, fixed, reason="report number mistyped"
    )
    assert (second.supersedes, second.reason) == (first.id, "report number mistyped")
    assert [v.id for v in records.records(batch, RecordType.INSPECTION)] == [second.id]
    history = records.records(batch, RecordType.INSPECTION, history=True)
    assert [(v.id, v.superseded_by) for v in history] == [(first.id, second.id), (second.id, None)]
    with pytest.raises(
        RecordConflictError, match=f"already corrected by inspection conclusion {second.id}"
    ):
        records.correct(site.qa, RecordType.INSPECTION, first.id, fixed, reason="again")
    with pytest.raises(RecordConflictError, match=f"correct inspection conclusion {second.id}"):
        records.add(site.qa, batch, RecordType.INSPECTION, given.INSPECTION)
    (modify,) = site.trail.entries(event="decoction.inspection_corrected")
    assert (modify.action, modify.reason, modify.object_id) == (
        "modify",
        "report number mistyped",
        str(second.id),
    )
    assert (modify.old["report_number"], modify.new["report_number"]) == (
        "QC-2611-017",
        "QC-2611-018",
    )
    exported = export_batch(records, batch)
    assert [(s["type"], s["id"], s["superseded_by"]) for s in exported["superseded"]] == [
        ("inspection", first.id, second.id)
    ]

    for statement in (
        text("UPDATE decoction_inspections SET report_number = 'X'"),
        text("DELETE FROM decoction_inspections"),
    ):
        with pytest.raises(DBAPIError, match="tracegate"), site.engine.begin() as conn:
            conn.execute(statement)
    step = {
        "batch_id": batch,
        "fields": {},
        "kind": "processing",
        "method": None,
        "operator": "x",
        "started_at": site.trail.now(),
        "finished_at": site.trail.now(),
        "recorded_at": site.trail.now(),
    }
    with pytest.raises(DBAPIError), site.engine.begin() as conn:
        conn.execute(insert(ProcessStepRow).values(**step))


def test_attachments_are_stored_once_and_tampering_is_found_on_read(site: DecoctionSite) -> None:
    records, batch, op = site.records, site.batch, site.operator
    self_grown, purchased = records.add_many(
        op, batch, RecordType.HERB_SOURCE, [given.SELF_GROWN, given.PURCHASED]
    )
    largest = pdf(10 * MIB)
    report = records.attach(op, batch, "product_inspection_report", "QC-017.pdf", largest)
    assert (report.size, report.media_type) == (10 * MIB, "application/pdf")
    info, content = records.attachment_content(report.id)
    assert (info, content == largest) == (report, True)
    scan = records.attach(op, batch, "raw_herb_inspection_report", "raw.pdf", pdf(1000))
    again = records.attach(op, batch, "intermediate_inspection_report", "copy.pdf", pdf(1000))
    assert again.sha256 == scan.sha256
    photo = records.attach(
        op, batch, "origin_photos", "field.jpg", jpeg(), herb_source_id=self_grown.id
    )
    rows, audit = _rows(site.engine), _audit_head(site.engine)
    refusals: list[tuple[str, str, bytes, int | None, str]] = [
        ("product_inspection_report", "big.pdf", pdf(10 * MIB + 1), None, "1 over the limit"),
        ("product_inspection_report", "scan.pdf", jpeg(), None, "the name ends in .pdf"),
        ("product_inspection_report", "setup.pdf", b"MZ" + bytes(62), None, "Windows program"),
        ("origin_photos", "f.jpg", jpeg(), None, "which one was not said"),
        ("origin_photos", "f.jpg", jpeg(), purchased.id, "is purchased herbs"),
        ("product_inspection_report", "r.pdf", pdf(), self_grown.id, "not to a herb source"),
        ("no_such_field", "r.pdf", pdf(), None, "is not a file field"),
    ]
    for field, name, content, source, message in refusals:
        with pytest.raises(AttachmentRejectedError, match=message):
            records.attach(op, batch, field, name, content, herb_source_id=source)
    assert (_rows(site.engine), _audit_head(site.engine)) == (rows, audit)
    with site.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(AttachmentContentRow)).scalar() == 3
    assert [e.object_id for e in site.trail.entries(event="decoction.attachment_added")] == [
        str(report.id),
        str(scan.id),
        str(again.id),
        str(photo.id),
    ]

    with behind_the_triggers(site.engine) as conn:
        conn.execute(
            update(AttachmentContentRow)
            .where(AttachmentContentRow.sha256 == scan.sha256)
            .values(content=func.replace(AttachmentContentRow.content, "AAAA", "AAAB"))
        )
    with pytest.raises(AttachmentCorruptError, match=scan.sha256):
        records.attachment_content(scan.id)
    assert [e.object_id for e in site.trail.entries(event="decoction.attachment_corrupt")] == [
        str(scan.id)
    ]
    verified = {a["id"]: a["content_verified"] for a in export_batch(records, batch)["attachments"]}
    assert verified == {report.id: True, scan.id: False, again.id: False, photo.id: True}
