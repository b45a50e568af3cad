"""One batch's decoction pieces record as one JSON document, and what it still lacks.

The document holds the current version of every record (the production record carries the
batch's lot as its 生产批号), the versions corrections replaced (with who, when and why), and
the attachments' names, types, sizes and SHA-256 — each attachment's content is read and its
hash checked, and a mismatch is listed under `problems` rather than hidden. `missing` names
every basic (必填) field of the annex the record does not hold yet, so an incomplete record is
visible before anyone reports it to the provincial platform.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ebr.decoction.errors import AttachmentCorruptError
from ebr.decoction.fields import PRODUCTION, SOURCE_FIELD, Field, FieldKind
from ebr.decoction.record_types import RecordType
from ebr.decoction.records import DecoctionRecords, RecordView

FORMAT = "tracegate-decoction/1"
LISTED = {
    RecordType.HERB_SOURCE: "herb_sources",
    RecordType.PROCESS_STEP: "process_steps",
    RecordType.SALE: "sales",
    RecordType.RECALL: "recalls",
}


def export_batch(records: DecoctionRecords, batch_id: int) -> dict[str, Any]:
    batch = records.batch(batch_id)
    every = {kind: records.records(batch_id, kind, history=True) for kind in RecordType}
    current = {
        kind: [view for view in views if view.superseded_by is None]
        for kind, views in every.items()
    }
    attachments, problems = _attachments(records, batch_id)
    production = _one(current[RecordType.PRODUCTION])
    inspection = _one(current[RecordType.INSPECTION])
    missing = missing_basic_fields(current)
    document: dict[str, Any] = {
        "format": FORMAT,
        "batch": {
            "id": batch.id,
            "product_id": batch.product_id,
            "lot": batch.lot,
            "production_date": batch.production_date,
        },
        "complete": not missing,
        "missing": missing,
        "production": None if production is None else _production(production, batch.lot),
        "inspection": None if inspection is None else inspection.as_json(),
    }
    for kind, key in LISTED.items():
        document[key] = [view.as_json() for view in current[kind]]
    document["attachments"] = attachments
    document["superseded"] = [
        {"type": kind.value, **view.as_json()}
        for kind, views in every.items()
        for view in views
        if view.superseded_by is not None
    ]
    document["problems"] = problems
    return document


def missing_basic_fields(
    current: Mapping[RecordType, Sequence[RecordView]],
) -> list[dict[str, str]]:
    """The annex's basic fields the batch's current records do not hold."""
    missing: list[dict[str, str]] = []
    if not current[RecordType.PRODUCTION]:
        missing += [
            _entry(RecordType.PRODUCTION, field)
            for field in PRODUCTION.fields
            if field.required and field.entered
        ]
    if not current[RecordType.HERB_SOURCE]:
        missing.append(_entry(RecordType.HERB_SOURCE, SOURCE_FIELD))
    for field in PRODUCTION.fields:
        holder = field.kept_in if field.kind is FieldKind.RECORDS and field.required else None
        if holder is not None and not current[RecordType(holder)]:
            missing.append(_entry(RecordType(holder), field))
    return missing


def _entry(kind: RecordType, field: Field) -> dict[str, str]:
    return {"record": kind.value, "field": field.key, "zh": field.zh, "en": field.en}


def _one(views: Sequence[RecordView]) -> RecordView | None:
    return views[-1] if views else None


def _production(view: RecordView, lot: str) -> dict[str, Any]:
    document = view.as_json()
    document["values"] = {**view.values, "production_batch_number": lot}
    return document


def _attachments(
    records: DecoctionRecords, batch_id: int
) -> tuple[list[dict[str, Any]], list[str]]:
    listed: list[dict[str, Any]] = []
    problems: list[str] = []
    for info in records.attachments(batch_id):
        try:
            records.attachment_content(info.id)
            verified = True
        except AttachmentCorruptError as error:
            verified = False
            problems.append(error.message)
        listed.append({**info.as_json(), "content_verified": verified})
    return listed, problems
