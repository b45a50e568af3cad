"""Tables of the executed batch record (`docs/ebr.md`, migration 0008).

What the line and the people did for one batch, kept as GMP records: the steps completed in
their enforced order, every recorded value, the exceptions QA reviews, the deviations, and the
in-process checks that were due. `ebr_steps` and `ebr_entries` are append-only (a correction is
a new entry that names the one it supersedes); exceptions, deviations and scheduled checks are
never deleted and change only once, when they are acknowledged, closed or done.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ebr.execution.kinds import DeviationStatus, ExceptionKind, Severity, Source, Step
from ebr.models import Base, BigId


def _values(kind: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in kind)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class ExecutionStepRow(Base):
    """A step of the batch completed, by whom and when; each step at most once per batch."""

    __tablename__ = "ebr_steps"
    __table_args__ = (
        UniqueConstraint("batch_id", "step"),
        CheckConstraint(_one_of("step", _values(Step)), name="step"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    step: Mapped[str] = mapped_column(String(32))
    done_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    done_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    done_by: Mapped[str | None] = mapped_column(String(64))
    """User name; `gateway` when the line completed the step."""


class EntryRow(Base):
    """One recorded value of a section of the batch record. Never updated."""

    __tablename__ = "ebr_entries"
    __table_args__ = (
        Index("ix_ebr_entries_batch_id_section", "batch_id", "section"),
        CheckConstraint(_one_of("source", _values(Source)), name="source"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    section: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    value: Mapped[Any] = mapped_column(JSON, nullable=False)
    """Plain JSON; a decimal number is kept as its decimal text ("23.5"), never as a float,
    so that the record hashes the same everywhere."""
    unit: Mapped[str | None] = mapped_column(String(20))
    low: Mapped[str | None] = mapped_column(String(40))
    """Lower limit, decimal text."""
    high: Mapped[str | None] = mapped_column(String(40))
    """Upper limit, decimal text."""
    in_limits: Mapped[bool | None] = mapped_column(Boolean)
    """None when the value has no limits."""
    source: Mapped[str] = mapped_column(String(8))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    recorded_by: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    """E.g. a frame file and its SHA-256, a code read."""
    supersedes: Mapped[int | None] = mapped_column(ForeignKey("ebr_entries.id"))
    """The entry this correction replaces."""


class ExceptionRow(Base):
    """Something QA must look at and acknowledge: one per batch, kind and reference."""

    __tablename__ = "ebr_exceptions"
    __table_args__ = (
        UniqueConstraint("batch_id", "kind", "ref"),
        CheckConstraint(_one_of("kind", _values(ExceptionKind)), name="kind"),
        CheckConstraint(_one_of("severity", _values(Severity)), name="severity"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(Text)
    ref: Mapped[str] = mapped_column(String(200))
    """Entry id, deviation id, audit sequence, check name…, as text."""
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(Text)


class DeviationRow(Base):
    """A deviation from the procedure or the limits; closed with a reason and a signature."""

    __tablename__ = "ebr_deviations"
    __table_args__ = (
        Index("ix_ebr_deviations_batch_id", "batch_id"),
        CheckConstraint(_one_of("severity", _values(Severity)), name="severity"),
        CheckConstraint(_one_of("status", _values(DeviationStatus)), name="status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    severity: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    qms_reference: Mapped[str | None] = mapped_column(String(100))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ebr_entries.id"))
    """The recorded value that opened it, if a value did."""
    status: Mapped[str] = mapped_column(String(8))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    opened_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    opened_by: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    closed_by: Mapped[str | None] = mapped_column(String(64))
    close_reason: Mapped[str | None] = mapped_column(Text)


class ScheduledCheckRow(Base):
    """An in-process check due at a time; `entry_id` is the check's recorded value once done."""

    __tablename__ = "ebr_checks"
    __table_args__ = (UniqueConstraint("batch_id", "name", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    name: Mapped[str] = mapped_column(String(100))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ebr_entries.id"))


APPEND_ONLY_TABLES = (ExecutionStepRow.__tablename__, EntryRow.__tablename__)
"""Rows are only ever inserted: the database refuses UPDATE and DELETE (migration 0008)."""
SETTLING_COLUMNS = {
    ExceptionRow.__tablename__: (
        "acknowledged_at",
        "acknowledged_by_user_id",
        "acknowledged_by",
        "comment",
    ),
    DeviationRow.__tablename__: (
        "status",
        "closed_at",
        "closed_by_user_id",
        "closed_by",
        "close_reason",
    ),
    ScheduledCheckRow.__tablename__: ("entry_id",),
}
"""Tables whose rows are never deleted and are settled once (acknowledged, closed, done): the
columns settling sets. The database refuses an UPDATE of any other column, and any UPDATE of a
settled row (migration 0008)."""
