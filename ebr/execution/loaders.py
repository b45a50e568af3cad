"""The executed record's signed versions, read back the same way at signing and at
verification (`ebr.audit.records.DEFAULT_LOADERS`), and the digest of a batch's whole record.

Entries never change, so a signature on one (a second person's verification, an override, the
audit-trail review, the release) verifies for the life of the record. A deviation is signed
once it is closed, after which the database refuses any change to it.

`record_digest` is the SHA-256 of everything the batch's executed record holds except the
review and the release themselves: the audit-trail review stores it, and release compares it,
so a review signed before anything changed no longer counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Table, select

from ebr.audit.chain import canonical_plain, sha256_hex
from ebr.execution.kinds import Step
from ebr.execution.models import (
    DeviationRow,
    EntryRow,
    ExceptionRow,
    ExecutionStepRow,
    ScheduledCheckRow,
)
from ebr.models import Batch

DECISION_SECTIONS = (Step.REVIEW.value, Step.RELEASE.value)
"""Sections and steps the review and the release write: outside what they sign off."""
BATCH_IDENTITY = ("id", "product_id", "line_id", "lot", "expiry", "production_date")


def load_entry(conn: Connection, object_id: str) -> Mapping[str, Any] | None:
    return _row(conn, EntryRow.__table__, object_id)  # type: ignore[arg-type]


def load_deviation(conn: Connection, object_id: str) -> Mapping[str, Any] | None:
    return _row(conn, DeviationRow.__table__, object_id)  # type: ignore[arg-type]


def record_digest(conn: Connection, batch_id: int) -> str:
    batch = Batch.__table__
    identity = conn.execute(
        select(*(batch.c[name] for name in BATCH_IDENTITY)).where(batch.c.id == batch_id)
    ).mappings()
    steps = ExecutionStepRow.__table__
    entries = EntryRow.__table__
    record = {
        "batch": [dict(row) for row in identity],
        "steps": _rows(
            conn,
            select(steps).where(
                steps.c.batch_id == batch_id, steps.c.step.not_in(DECISION_SECTIONS)
            ),
        ),
        "entries": _rows(
            conn,
            select(entries).where(
                entries.c.batch_id == batch_id, entries.c.section.not_in(DECISION_SECTIONS)
            ),
        ),
        "exceptions": _rows(conn, _of_batch(ExceptionRow.__table__, batch_id)),  # type: ignore[arg-type]
        "deviations": _rows(conn, _of_batch(DeviationRow.__table__, batch_id)),  # type: ignore[arg-type]
        "checks": _rows(conn, _of_batch(ScheduledCheckRow.__table__, batch_id)),  # type: ignore[arg-type]
    }
    return sha256_hex(canonical_plain(record))


def _of_batch(table: Table, batch_id: int) -> Any:
    return select(table).where(table.c.batch_id == batch_id)


def _rows(conn: Connection, query: Any) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(query.order_by("id")).mappings()]


def _row(conn: Connection, table: Table, object_id: str) -> Mapping[str, Any] | None:
    if not object_id.isdigit():
        return None
    row = conn.execute(select(table).where(table.c.id == int(object_id))).mappings().first()
    return None if row is None else dict(row)
