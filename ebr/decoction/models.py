"""Tables of the decoction pieces record (seed 001 annex 1; `docs/ebr.md`, migration 0010).

One batch's record: its production and quality data, where its herbs came from, the process
steps, the inspection conclusion, the sales and the recalls, and the files attached to them.
Each table holds the values the gateway checks or looks up as columns, the rest of the annex's
fields in `fields` (the canonical JSON of `ebr.decoction.validation`).

Every table is append-only (migration 0010 makes the database refuse UPDATE and DELETE): a
correction is a new row that names the row it supersedes, with a reason; a row is superseded
at most once (UNIQUE `supersedes`), so the history of a value is a single chain.

Attachments are kept in the database, not as files under the site's data directory: they then
commit in the same transaction as their audit entry, the database's own triggers keep them from
being changed or removed, and every backup, incremental backup, digest and restore carries them
with the rest of the record. A loose file could vanish or change without any of that. The
content is stored as base64 text rather than a binary column because the backups canonicalise
rows as JSON, which has no bytes; the cost is a third more space for at most 10 MiB a file.
The same content attached twice is stored once (`decoction_attachment_contents.sha256` is
unique); its SHA-256 is checked again whenever it is read.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from ebr.decoction.fields import (
    CONCLUSIONS,
    DESTINATIONS,
    PROCESSING,
    PROCESSING_METHODS,
    SOURCE_KINDS,
    STANDARDS,
    STEP_KINDS,
    Choice,
    MediaType,
)
from ebr.models import Base, BigId

CORRECTION_NEEDS_REASON = "supersedes IS NULL OR reason IS NOT NULL"
METHOD_ONLY_FOR_PROCESSING = (
    f"(kind = '{PROCESSING}' AND method IS NOT NULL) OR (kind <> '{PROCESSING}' AND method IS NULL)"
)


def one_of(column: str, choices: tuple[Choice, ...] | tuple[str, ...]) -> str:
    keys = [choice if isinstance(choice, str) else choice.key for choice in choices]
    return f"{column} IN ({', '.join(repr(key) for key in keys)})"


class RecordedRow:
    """A row of a batch's decoction record: who recorded it and when, and for a correction the
    row it supersedes and why."""

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    recorded_by: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    """Why a correction was made; None for a first record."""

    @declared_attr
    def supersedes(cls) -> Mapped[int | None]:  # noqa: N805
        return mapped_column(ForeignKey(f"{cls.__tablename__}.id"), unique=True)  # type: ignore[attr-defined]


class ProductionRow(RecordedRow, Base):
    """The batch's production and quality data (annex 二), one current row per batch."""

    __tablename__ = "decoction_production"
    __table_args__ = (CheckConstraint(CORRECTION_NEEDS_REASON, name="correction_reason"),)

    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"))
    product_name: Mapped[str] = mapped_column(String(200))


class HerbSourceRow(RecordedRow, Base):
    """Where a batch's herbs came from: self-grown (annex 一、1) or purchased (一、2)."""

    __tablename__ = "decoction_herb_sources"
    __table_args__ = (
        CheckConstraint(CORRECTION_NEEDS_REASON, name="correction_reason"),
        CheckConstraint(one_of("kind", SOURCE_KINDS), name="kind"),
    )

    kind: Mapped[str] = mapped_column(String(16))
    herb_name: Mapped[str] = mapped_column(String(100))


class ProcessStepRow(RecordedRow, Base):
    """One process step; 炮制 (processing) and only it names a method."""

    __tablename__ = "decoction_process_steps"
    __table_args__ = (
        CheckConstraint(CORRECTION_NEEDS_REASON, name="correction_reason"),
        CheckConstraint(one_of("kind", STEP_KINDS), name="kind"),
        CheckConstraint(one_of("method", PROCESSING_METHODS), name="method"),
        CheckConstraint(METHOD_ONLY_FOR_PROCESSING, name="method_for_processing"),
    )

    kind: Mapped[str] = mapped_column(String(16))
    method: Mapped[str | None] = mapped_column(String(32))
    operator: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InspectionRow(RecordedRow, Base):
    """The batch's inspection conclusion, one current row per batch."""

    __tablename__ = "decoction_inspections"
    __table_args__ = (
        CheckConstraint(CORRECTION_NEEDS_REASON, name="correction_reason"),
        CheckConstraint(one_of("conclusion", CONCLUSIONS), name="conclusion"),
        CheckConstraint(one_of("standard", STANDARDS), name="standard"),
    )

    conclusion: Mapped[str] = mapped_column(String(16))
    standard: Mapped[str] = mapped_column(String(32))
    report_number: Mapped[str] = mapped_column(String(64))
    inspector_name: Mapped[str] = mapped_column(String(100))
    inspected_on: Mapped[date] = mapped_column(Date)


class SaleRow(RecordedRow, Base):
    """A sale of the batch (annex 三): when, to whom, how much."""

    __tablename__ = "decoction_sales"
    __table_args__ = (
        CheckConstraint(CORRECTION_NEEDS_REASON, name="correction_reason"),
        CheckConstraint(one_of("destination", DESTINATIONS), name="destination"),
    )

    sold_on: Mapped[date] = mapped_column(Date)
    destination: Mapped[str] = mapped_column(String(32))
    customer_name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[str] = mapped_column(String(40))
    """Decimal text, exactly as recorded."""
    unit: Mapped[str] = mapped_column(String(16))
    piece_batch_number: Mapped[str] = mapped_column(String(64))


class RecallRow(RecordedRow, Base):
    """A recall of the batch (annex 三 召回信息)."""

    __tablename__ = "decoction_recalls"
    __table_args__ = (CheckConstraint(CORRECTION_NEEDS_REASON, name="correction_reason"),)

    recalled_on: Mapped[date] = mapped_column(Date)
    company: Mapped[str] = mapped_column(String(200))
    product: Mapped[str] = mapped_column(String(200))
    recall_reason: Mapped[str] = mapped_column(Text)


class AttachmentContentRow(Base):
    """A file's bytes, base64, stored once per distinct content."""

    __tablename__ = "decoction_attachment_contents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)


class AttachmentRow(Base):
    """A file attached to a field of a batch's decoction record (a herb source's field names
    the source)."""

    __tablename__ = "decoction_attachments"
    __table_args__ = (
        CheckConstraint(one_of("media_type", tuple(m.value for m in MediaType)), name="media_type"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    herb_source_id: Mapped[int | None] = mapped_column(ForeignKey("decoction_herb_sources.id"))
    field: Mapped[str] = mapped_column(String(48))
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content_id: Mapped[int] = mapped_column(ForeignKey("decoction_attachment_contents.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    recorded_by: Mapped[str | None] = mapped_column(String(64))


RECORD_TABLES = (
    ProductionRow.__tablename__,
    HerbSourceRow.__tablename__,
    ProcessStepRow.__tablename__,
    InspectionRow.__tablename__,
    SaleRow.__tablename__,
    RecallRow.__tablename__,
)
APPEND_ONLY_TABLES = (
    *RECORD_TABLES,
    AttachmentContentRow.__tablename__,
    AttachmentRow.__tablename__,
)
"""Rows are only ever inserted: the database refuses UPDATE and DELETE (migration 0010)."""
