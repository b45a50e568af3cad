"""The production journal as records for upstream systems: pages by sequence, batch exports,
aggregation trees and the history of one code. Read only.

A record's sequence is its `journal_events.id`: global and increasing, and on PostgreSQL the
journal's writers commit in id order (`ebr.journal.store.ORDER_LOCK`), so a reader paging by
sequence never passes a record that commits later. Only the kinds upstream systems act on are
records (`RECORD_TYPES`); the others stay in the batch export.

Each record is one JSON object: the journal entry as hashed (its `data` is the stored canonical
JSON, byte for byte) plus where it belongs (site, line, product, lot), so a receiver can
recompute the entry's hash and link it to the previous one (R-DATA-2).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection, Engine, and_, func, or_, select
from sqlalchemy.orm import aliased

from ebr.audit.chain import utc_text
from ebr.journal import batch_counts, verify_journal
from ebr.journal.chain import as_utc
from ebr.journal.events import EventKind
from ebr.models import (
    Allocation,
    Batch,
    Code,
    CodeTransition,
    JournalEventRow,
    Product,
    Site,
)
from ebr.sql import chunked
from serialization.states import CodeState

RECORD_TYPES: Final[dict[str, str]] = {
    EventKind.UNIT_ACCEPTED.value: "commissioning",
    EventKind.UNIT_REJECTED.value: "decommissioning",
    EventKind.CODES_VOIDED.value: "decommissioning",
    EventKind.UNIT_SAMPLED.value: "decommissioning",
    EventKind.UNIT_DESTROYED.value: "decommissioning",
    EventKind.AGGREGATED.value: "aggregation",
    EventKind.CHILD_ADDED.value: "aggregation",
    EventKind.CHILD_REMOVED.value: "aggregation",
    EventKind.UNPACKED.value: "aggregation",
    EventKind.LABEL_REPLACED.value: "aggregation",
    EventKind.BATCH_PHASE.value: "batch_phase",
    EventKind.CODES_RECALLED.value: "recall",
}
"""Journal kind → record type. A `line.note` with topic `reconciliation` is a `batch_summary`."""
SUMMARY_TOPIC: Final = "reconciliation"
SUMMARY_TYPE: Final = "batch_summary"
MAX_EXPORT_EVENTS: Final = 10_000
"""A batch export lists its events up to this many; a bigger batch's are paged by sequence."""
MAX_TREE_DEPTH: Final = 8

_SUMMARY_NEEDLE = f'"topic":"{SUMMARY_TOPIC}"'
_J = JournalEventRow
_COLUMNS = (
    _J.id,
    _J.batch_id,
    _J.seq,
    _J.at,
    _J.kind,
    _J.unit_ref,
    _J.code_key,
    _J.data,
    _J.prev_hash,
    _J.hash,
    Batch.line_id,
    Batch.product_id,
    Batch.lot,
)
_IS_RECORD = or_(
    _J.kind.in_(sorted(RECORD_TYPES)),
    and_(_J.kind == EventKind.NOTE.value, _J.data.contains(_SUMMARY_NEEDLE, autoescape=True)),
)


@dataclass(frozen=True, slots=True)
class RecordPage:
    records: list[str]
    """One JSON object per record, in sequence order."""
    last_sequence: int
    """The sequence of the last record given, or the `since` asked for when there is none:
    what to ask from next, and what to acknowledge once the records are safe."""
    more: bool
    """Records after `last_sequence` exist already."""


def record_type(kind: str, data: Any) -> str | None:
    """The record type of a journal entry, or None when it is not a record."""
    found = RECORD_TYPES.get(kind)
    if found is not None:
        return found
    if kind == EventKind.NOTE.value and isinstance(data, dict):
        return SUMMARY_TYPE if data.get("topic") == SUMMARY_TOPIC else None
    return None


def head_sequence(engine: Engine) -> int:
    """The highest sequence written so far (0 for an empty journal)."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.max(_J.id))).scalar_one() or 0)


def record_page(engine: Engine, since: int, max_count: int, max_bytes: int) -> RecordPage:
    """Up to `max_count` records with a sequence above `since`, in order, stopping before the
    JSON would pass `max_bytes` (UTF-8), but never with fewer than one record when one exists.
    """
    with engine.connect() as conn:
        site = conn.execute(select(Site.id).order_by(Site.id).limit(1)).scalar()
        rows = conn.execute(
            select(*_COLUMNS)
            .join(Batch, _J.batch_id == Batch.id)
            .where(_J.id > since, _IS_RECORD)
            .order_by(_J.id)
            .limit(max_count + 1)
        ).all()
    records: list[str] = []
    size = 0
    last = since
    for row in rows[:max_count]:
        kind_type = record_type(row.kind, _summary_data(row))
        if kind_type is None:
            last = row.id
            continue
        text = _record_json(row, kind_type, site)
        length = len(text.encode())
        if records and size + length > max_bytes:
            return RecordPage(records, last, True)
        records.append(text)
        size += length
        last = row.id
    return RecordPage(records, last, len(rows) > max_count)


def _summary_data(row: Any) -> Any:
    """The data of a note (only notes need it parsed to tell a summary from other notes)."""
    return json.loads(row.data) if row.kind == EventKind.NOTE.value else None


def _record_json(row: Any, kind_type: str | None, site: str | None) -> str:
    head = json.dumps(
        {
            "sequence": row.id,
            "type": kind_type,
            "kind": row.kind,
            "site": site,
            "line": row.line_id,
            "product": row.product_id,
            "lot": row.lot,
            "batch_id": row.batch_id,
            "batch_seq": row.seq,
            "at": utc_text(as_utc(row.at)),
            "unit_ref": row.unit_ref,
            "code": row.code_key,
            "prev_hash": row.prev_hash,
            "hash": row.hash,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return f'{head[:-1]},"data":{row.data}}}'


def _event_object(row: Any, site: str | None) -> dict[str, Any]:
    data = json.loads(row.data)
    record: dict[str, Any] = json.loads(_record_json(row, record_type(row.kind, data), site))
    return record


# --- one batch --------------------------------------------------------------------------------


def batch_record(
    engine: Engine, batch_id: int, *, max_events: int = MAX_EXPORT_EVENTS
) -> dict[str, Any] | None:
    """The batch's electronic record: header, counts, reconciliation summary, the journal's
    verification and its events (all of them, when there are at most `max_events`). None for
    an unknown batch."""
    with engine.connect() as conn:
        batch = conn.execute(
            select(Batch.__table__, Product.name.label("product_name"), Product.gtin)
            .join(Product, Batch.product_id == Product.id)
            .where(Batch.id == batch_id)
        ).first()
        if batch is None:
            return None
        site = conn.execute(select(Site.id).order_by(Site.id).limit(1)).scalar()
        where = _J.batch_id == batch_id
        total, first, last = conn.execute(
            select(func.count(), func.min(_J.id), func.max(_J.id)).where(where)
        ).one()
        summary = _last_summary(conn, batch_id)
        events = None
        if total <= max_events:
            rows = conn.execute(
                select(*_COLUMNS).join(Batch, _J.batch_id == Batch.id).where(where).order_by(_J.seq)
            ).all()
            events = [_event_object(row, site) for row in rows]
    verification = verify_journal(engine, batch_id)
    return {
        "batch": {
            "id": batch.id,
            "site": site,
            "product": batch.product_id,
            "product_name": batch.product_name,
            "gtin": batch.gtin,
            "line": batch.line_id,
            "lot": batch.lot,
            "expiry": None if batch.expiry is None else batch.expiry.isoformat(),
            "production_date": (
                None if batch.production_date is None else batch.production_date.isoformat()
            ),
            "planned_quantity": batch.planned_quantity,
            "status": batch.status,
            "created_at": utc_text(as_utc(batch.created_at)),
        },
        "counts": batch_counts(engine, batch_id),
        "reconciliation": summary,
        "verification": {
            "ok": verification.ok,
            "events": verification.events,
            "first_bad_seq": verification.first_bad_seq,
            "problem": verification.problem,
            "states_match": verification.states_match,
        },
        "events_total": int(total),
        "first_sequence": first,
        "last_sequence": last,
        "events": events,
    }


def _last_summary(conn: Connection, batch_id: int) -> dict[str, Any] | None:
    rows = conn.execute(
        select(_J.data)
        .where(
            _J.batch_id == batch_id,
            _J.kind == EventKind.NOTE.value,
            _J.data.contains(_SUMMARY_NEEDLE, autoescape=True),
        )
        .order_by(_J.seq.desc())
    ).scalars()
    for text in rows:
        data = json.loads(text)
        if data.get("topic") == SUMMARY_TOPIC:
            return {key: value for key, value in data.items() if key != "topic"}
    return None


# --- codes ------------------------------------------------------------------------------------

_PARENT = aliased(Code)
_CODE_COLUMNS = (
    Code.id,
    Code.key,
    Code.state,
    Code.parent_id,
    _PARENT.key.label("parent_key"),
    Allocation.level,
    Allocation.batch_id,
)


def _codes(conn: Connection, where: Any) -> list[Any]:
    return list(
        conn.execute(
            select(*_CODE_COLUMNS)
            .outerjoin(Allocation, Code.allocation_id == Allocation.id)
            .outerjoin(_PARENT, Code.parent_id == _PARENT.id)
            .where(where)
            .order_by(Code.id)
        ).all()
    )


def _code_summary(row: Any) -> dict[str, Any]:
    return {"code": row.key, "level": row.level, "state": CodeState(row.state).label}


def aggregation_tree(engine: Engine, key: str) -> dict[str, Any] | None:
    """What a code is packed in (nearest first) and everything packed in it, as a tree.
    None for an unknown code."""
    with engine.connect() as conn:
        found = _codes(conn, Code.key == key)
        if not found:
            return None
        code = found[0]
        ancestors = []
        seen = {code.id}
        parent_id = code.parent_id
        while parent_id is not None and parent_id not in seen and len(seen) <= MAX_TREE_DEPTH:
            seen.add(parent_id)
            (parent,) = _codes(conn, Code.id == parent_id)
            ancestors.append(_code_summary(parent))
            parent_id = parent.parent_id
        tree = _subtree(conn, code)
    return {
        **_code_summary(code),
        "batch_id": code.batch_id,
        "ancestors": ancestors,
        "tree": tree,
    }


def _subtree(conn: Connection, root: Any) -> dict[str, Any]:
    nodes: dict[int, dict[str, Any]] = {root.id: {**_code_summary(root), "children": []}}
    level = [root.id]
    for _depth in range(MAX_TREE_DEPTH):
        if not level:
            break
        children: list[Any] = []
        for ids in chunked(level):
            children.extend(_codes(conn, Code.parent_id.in_(ids)))
        level = []
        for child in children:
            if child.id in nodes:
                continue
            nodes[child.id] = {**_code_summary(child), "children": []}
            nodes[child.parent_id]["children"].append(nodes[child.id])
            level.append(child.id)
    return nodes[root.id]


def code_trace(engine: Engine, key: str) -> dict[str, Any] | None:
    """One code's history: where it belongs, its state changes and the journal events that
    name it (as its own code, as a child, or in a list of voided codes). None when unknown."""
    with engine.connect() as conn:
        found = _codes(conn, Code.key == key)
        if not found:
            return None
        code = found[0]
        batch = None
        events: list[dict[str, Any]] = []
        if code.batch_id is not None:
            row = conn.execute(
                select(Batch.id, Batch.product_id, Batch.line_id, Batch.lot, Batch.status).where(
                    Batch.id == code.batch_id
                )
            ).one()
            batch = {
                "id": row.id,
                "product": row.product_id,
                "line": row.line_id,
                "lot": row.lot,
                "status": row.status,
            }
            events = _events_naming(conn, code.batch_id, key)
        transitions = [
            {
                "from": CodeState(t.from_state).label,
                "to": CodeState(t.to_state).label,
                "reason": t.reason,
                "at": utc_text(as_utc(t.at)),
            }
            for t in conn.execute(
                select(CodeTransition.__table__)
                .where(CodeTransition.code_id == code.id)
                .order_by(CodeTransition.id)
            )
        ]
    return {
        **_code_summary(code),
        "batch": batch,
        "parent": code.parent_key,
        "transitions": transitions,
        "events": events,
    }


def _events_naming(conn: Connection, batch_id: int, key: str) -> list[dict[str, Any]]:
    """Two indexed reads (`ix_journal_events_code_key`, `ix_journal_events_batch_id_kind`)
    instead of one text search through the whole batch's journal: a code of a 100,000-unit
    batch is traced in milliseconds. The batch is joined by its id, not through the journal's
    column, and the code's own events are found by key alone (the journal refuses a code under
    another batch): so SQLite picks these indexes even before ANALYZE has run."""
    needle = json.dumps(key, ensure_ascii=False)
    site = conn.execute(select(Site.id).order_by(Site.id).limit(1)).scalar()
    joined = select(*_COLUMNS).join(Batch, Batch.id == batch_id)
    own = conn.execute(joined.where(_J.code_key == key)).all()
    listed = conn.execute(
        joined.where(
            _J.batch_id == batch_id,
            _J.kind.in_(_LISTING_KINDS),
            _J.data.contains(needle, autoescape=True),
        )
    ).all()
    rows = sorted({row.id: row for row in (*own, *listed)}.values(), key=lambda row: row.seq)
    return [event for event in (_event_object(row, site) for row in rows) if _names(event, key)]


_LISTING_KINDS: Final = tuple(
    kind.value
    for kind in (
        EventKind.CODES_VOIDED,
        EventKind.CODES_RECALLED,
        EventKind.AGGREGATED,
        EventKind.CHILD_ADDED,
        EventKind.CHILD_REMOVED,
        EventKind.LABEL_REPLACED,
        EventKind.NOTE,
    )
)
"""The kinds whose data may name other codes than their code_key (`_names`)."""


def _names(event: dict[str, Any], key: str) -> bool:
    if event["code"] == key:
        return True
    data = event["data"]
    listed: Iterable[Any] = [*data.get("keys", ()), *data.get("children", ())]
    return key in listed or key in (data.get("child"), data.get("old"))
