"""The batches QA reviews: one row per batch with its order, product, line, status, open
exceptions and dates, filtered by status, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import Engine, Select, func, select

from ebr.execution.models import ExceptionRow
from ebr.models import Batch, Line, Product
from ebr.recipes.models import PackagingOrderRow
from serialization.lifecycle import BatchPhase

STATUSES: Final = tuple(phase.value for phase in BatchPhase)
MAX_ROWS: Final = 500


@dataclass(frozen=True, slots=True)
class BatchRow:
    batch_id: int
    order_number: str | None
    product_id: str
    product_name: str
    lot: str
    line_name: str
    status: str
    open_exceptions: int
    created_at: datetime
    production_date: date | None


def batch_rows(engine: Engine, status: str | None = None) -> list[BatchRow]:
    """The newest `MAX_ROWS` batches (of `status`, when given)."""
    query = _query().order_by(Batch.id.desc()).limit(MAX_ROWS)
    if status is not None:
        query = query.where(Batch.status == status)
    with engine.connect() as conn:
        return [BatchRow(*row) for row in conn.execute(query)]


def batch_row(engine: Engine, batch_id: int) -> BatchRow | None:
    with engine.connect() as conn:
        found = conn.execute(_query().where(Batch.id == batch_id)).first()
    return None if found is None else BatchRow(*found)


def _query() -> Select[*tuple[Any, ...]]:
    open_exceptions = (
        select(ExceptionRow.batch_id, func.count().label("open"))
        .where(ExceptionRow.acknowledged_at.is_(None))
        .group_by(ExceptionRow.batch_id)
        .subquery()
    )
    return (
        select(
            Batch.id,
            PackagingOrderRow.number,
            Batch.product_id,
            Product.name,
            Batch.lot,
            Line.name,
            Batch.status,
            func.coalesce(open_exceptions.c.open, 0),
            Batch.created_at,
            Batch.production_date,
        )
        .join(Product, Product.id == Batch.product_id)
        .join(Line, Line.id == Batch.line_id)
        .outerjoin(PackagingOrderRow, PackagingOrderRow.batch_id == Batch.id)
        .outerjoin(open_exceptions, open_exceptions.c.batch_id == Batch.id)
    )
