"""Trace queries (R-INT-3, R-RISK-1): one code's history, containers and contents, where it came
from and where it went; one batch's every unit, case and pallet. Read only.

A code's history and aggregation tree come from `ebr.records` (the same reads the OPC UA server
answers GetAggregation and TraceCode with); this module adds the batch and product behind the
code (backward), its containers and shipments (forward) and its recall.

Shipments: the gateway records no shipping event yet (shipping is the enterprise's, or a later
issue's), so `shipments` is always an empty list; its place in the answers is kept so that
clients do not change when shipping arrives.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.orm import aliased

from ebr.audit.chain import utc_text
from ebr.journal.chain import as_utc
from ebr.journal.events import EventKind
from ebr.models import Allocation, Batch, Code, JournalEventRow, Product, Site
from ebr.records import aggregation_tree, code_trace
from serialization.states import CodeState

PAGE: Final = 10_000
"""Codes per page of a batch trace, at most."""
JOURNAL_TAG: Final = "journal {batch}/{seq}: "
"""How the journal names itself in the reason of the state changes it writes."""


@dataclass(frozen=True, slots=True)
class Manufacturer:
    site: str
    company_name: str
    uscc: str


@dataclass(frozen=True, slots=True)
class ProductRef:
    id: str
    name: str
    gtin: str | None
    nmpa_drug_id: str | None


@dataclass(frozen=True, slots=True)
class BatchOrigin:
    """Backward: the batch a code was made in, its product and lot, and who made it."""

    id: int
    lot: str
    expiry: date | None
    production_date: date | None
    status: str
    line: str
    product: ProductRef
    manufacturer: Manufacturer


@dataclass(frozen=True, slots=True)
class Container:
    code: str
    level: str | None
    state: str


@dataclass(frozen=True, slots=True)
class CodeNode:
    """A code and, recursively, everything packed in it."""

    code: str
    level: str | None
    state: str
    children: list[CodeNode] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """A journal event naming the code (with the state change it made, if any), or a state
    change made outside the journal (kind `state.changed`, seq None)."""

    at: str
    kind: str
    seq: int | None
    from_state: str | None
    to_state: str | None
    data: dict[str, Any]
    hash: str | None


@dataclass(frozen=True, slots=True)
class RecallMark:
    at: str
    seq: int
    reason: str
    user: str
    scope: str
    codes: int


@dataclass(frozen=True, slots=True)
class CodeTrace:
    code: str
    level: str | None
    state: str
    recall: RecallMark | None
    """The last recall that named this code, if one did (it stays after a later destruction)."""
    batch: BatchOrigin | None
    parents: list[Container]
    """Forward: the containers it is packed in, nearest first, up to the pallet."""
    children: list[CodeNode]
    """Everything packed in it, down to the units."""
    shipments: list[dict[str, Any]]
    """Forward: always empty until the gateway records shipping (module docstring)."""
    history: list[HistoryEntry]


@dataclass(frozen=True, slots=True)
class BatchCode:
    code: str
    level: str | None
    state: str
    parent: str | None


@dataclass(frozen=True, slots=True)
class BatchTrace:
    batch: BatchOrigin
    counts: dict[str, dict[str, int]]
    """Per level, how many codes are in each state."""
    recalls: list[RecallMark]
    shipments: list[dict[str, Any]]
    total: int
    """How many codes the batch has at all levels."""
    codes: list[BatchCode]
    """This page of the batch's codes, in allocation order."""
    next_cursor: int | None
    """The cursor for the next page, None on the last one."""


def trace_code(engine: Engine, key: str) -> CodeTrace | None:
    """Everything the store knows about one code, by its key; None for an unknown key."""
    history = code_trace(engine, key)
    tree = aggregation_tree(engine, key)
    if history is None or tree is None:
        return None
    batch_id = tree["batch_id"]
    origin = batch_origin(engine, batch_id) if batch_id is not None else None
    entries = _history(history, batch_id)
    return CodeTrace(
        code=key,
        level=history["level"],
        state=history["state"],
        recall=_recall_of(entries),
        batch=origin,
        parents=[Container(a["code"], a["level"], a["state"]) for a in tree["ancestors"]],
        children=[_node(child) for child in tree["tree"]["children"]],
        shipments=[],
        history=entries,
    )


def batch_origin(engine: Engine, batch_id: int) -> BatchOrigin | None:
    with engine.connect() as conn:
        return _origin(conn, batch_id)


def trace_batch(
    engine: Engine, batch_id: int, *, cursor: int = 0, limit: int = PAGE
) -> BatchTrace | None:
    """The batch, its counts and recalls, and one page of its codes after `cursor` (0: the
    first page); None for an unknown batch."""
    limit = max(1, min(limit, PAGE))
    with engine.connect() as conn:
        origin = _origin(conn, batch_id)
        if origin is None:
            return None
        counts: dict[str, dict[str, int]] = {}
        total = 0
        for level, state, count in conn.execute(
            select(Allocation.level, Code.state, func.count())
            .join(Allocation, Code.allocation_id == Allocation.id)
            .where(Allocation.batch_id == batch_id)
            .group_by(Allocation.level, Code.state)
        ):
            counts.setdefault(level, {})[CodeState(state).label] = int(count)
            total += int(count)
        recalls = _recalls(conn, batch_id)
        rows = _code_page(conn, batch_id, cursor, limit + 1)
    page = rows[:limit]
    return BatchTrace(
        batch=origin,
        counts=counts,
        recalls=recalls,
        shipments=[],
        total=total,
        codes=[code for _id, code in page],
        next_cursor=page[-1][0] if len(rows) > limit else None,
    )


def batch_codes(engine: Engine, batch_id: int) -> Iterator[BatchCode]:
    """Every code of the batch at every level, in allocation order, read a page at a time."""
    cursor = 0
    while True:
        with engine.connect() as conn:
            rows = _code_page(conn, batch_id, cursor, PAGE)
        for _id, code in rows:
            yield code
        if len(rows) < PAGE:
            return
        cursor = rows[-1][0]


_PARENT = aliased(Code)


def _code_page(conn: Connection, batch_id: int, cursor: int, limit: int) -> list[Any]:
    query = (
        select(Code.id, Code.key, Allocation.level, Code.state, _PARENT.key)
        .join(Allocation, Code.allocation_id == Allocation.id)
        .outerjoin(_PARENT, Code.parent_id == _PARENT.id)
        .where(Allocation.batch_id == batch_id, Code.id > cursor)
        .order_by(Code.id)
        .limit(limit)
    )
    return [
        (code_id, BatchCode(key, level, CodeState(state).label, parent))
        for code_id, key, level, state, parent in conn.execute(query)
    ]


def _origin(conn: Connection, batch_id: int) -> BatchOrigin | None:
    row = conn.execute(
        select(
            Batch.id,
            Batch.lot,
            Batch.expiry,
            Batch.production_date,
            Batch.status,
            Batch.line_id,
            Product.id.label("product_id"),
            Product.name,
            Product.gtin,
            Product.nmpa_drug_id,
            Site.id.label("site_id"),
            Site.company_name,
            Site.uscc,
        )
        .join(Product, Batch.product_id == Product.id)
        .join(Site, Product.site_id == Site.id)
        .where(Batch.id == batch_id)
    ).first()
    if row is None:
        return None
    return BatchOrigin(
        id=row.id,
        lot=row.lot,
        expiry=row.expiry,
        production_date=row.production_date,
        status=row.status,
        line=row.line_id,
        product=ProductRef(row.product_id, row.name, row.gtin, row.nmpa_drug_id),
        manufacturer=Manufacturer(row.site_id, row.company_name, row.uscc),
    )


def _recalls(conn: Connection, batch_id: int) -> list[RecallMark]:
    rows = conn.execute(
        select(JournalEventRow.at, JournalEventRow.seq, JournalEventRow.data)
        .where(
            JournalEventRow.batch_id == batch_id,
            JournalEventRow.kind == EventKind.CODES_RECALLED.value,
        )
        .order_by(JournalEventRow.seq)
    )
    return [_mark(utc_text(as_utc(at)), seq, json.loads(data)) for at, seq, data in rows]


def _mark(at: str, seq: int, data: Mapping[str, Any]) -> RecallMark:
    keys = data.get("keys")
    return RecallMark(
        at=at,
        seq=seq,
        reason=str(data.get("reason", "")),
        user=str(data.get("user", "")),
        scope=str(data.get("scope", "")),
        codes=len(keys) if isinstance(keys, list) else 0,
    )


def _node(tree: Mapping[str, Any]) -> CodeNode:
    return CodeNode(
        tree["code"], tree["level"], tree["state"], [_node(child) for child in tree["children"]]
    )


def _history(trace: Mapping[str, Any], batch_id: int | None) -> list[HistoryEntry]:
    """The journal's events with the state change each made, and the other state changes,
    oldest first."""
    moves: dict[str, tuple[str, str]] = {}
    entries: list[HistoryEntry] = []
    for move in trace["transitions"]:
        reason = move["reason"] or ""
        if batch_id is not None and reason.startswith(f"journal {batch_id}/"):
            tag = reason.split(": ", 1)[0]
            first = moves.get(tag, (move["from"], move["to"]))[0]
            moves[tag] = (first, move["to"])
            continue
        data = {"reason": reason} if reason else {}
        entries.append(
            HistoryEntry(move["at"], "state.changed", None, move["from"], move["to"], data, None)
        )
    for event in trace["events"]:
        tag = JOURNAL_TAG.format(batch=event["batch_id"], seq=event["batch_seq"]).split(": ")[0]
        from_state, to_state = moves.get(tag, (None, None))
        entries.append(
            HistoryEntry(
                event["at"],
                event["kind"],
                event["batch_seq"],
                from_state,
                to_state,
                event["data"],
                event["hash"],
            )
        )
    entries.sort(key=lambda entry: (entry.at, entry.seq or 0))
    return entries


def _recall_of(history: list[HistoryEntry]) -> RecallMark | None:
    for entry in reversed(history):
        if entry.kind == EventKind.CODES_RECALLED.value and entry.seq is not None:
            return _mark(entry.at, entry.seq, entry.data)
    return None
