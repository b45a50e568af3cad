"""Tables of the store: current-state tables, the state-change log and the production journal.

`codes.key` is the identity that must never repeat (R-CODE-1): a UNIQUE constraint in the
database, not an application check, is what guarantees it, on SQLite and PostgreSQL alike.
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
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: BigInteger that stays an INTEGER PRIMARY KEY (rowid alias) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON}  # noqa: RUF012


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    company_name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str] = mapped_column(String(18))
    gs1_company_prefix: Mapped[str | None] = mapped_column(String(12))
    gln: Mapped[str | None] = mapped_column(String(13))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CodingRuleRow(Base):
    """A coding rule as configured; `definition` is `serialization.rules.rule_to_dict` output."""

    __tablename__ = "coding_rules"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    scheme: Mapped[str] = mapped_column(String(16))
    definition: Mapped[dict[str, Any]]


class Product(Base):
    __tablename__ = "products"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    name: Mapped[str] = mapped_column(String(200))
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True)
    company_prefix: Mapped[str | None] = mapped_column(String(12))
    nmpa_drug_id: Mapped[str | None] = mapped_column(String(7))
    master: Mapped[dict[str, Any]]
    """The whole product master as configured (`serialization.rules.product_to_dict`)."""


class ProductLevel(Base):
    __tablename__ = "product_levels"

    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), primary_key=True)
    level: Mapped[str] = mapped_column(String(16), primary_key=True)
    coding_rule_id: Mapped[str] = mapped_column(ForeignKey("coding_rules.id"))
    quantity: Mapped[int | None] = mapped_column(Integer)
    rule: Mapped[dict[str, Any]]
    """The rule resolved for this product (e.g. SSCC serial length), as used for coding."""


class Line(Base):
    __tablename__ = "lines"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Import(Base):
    """One accepted import file: what it was (name, SHA-256) and how many rows it brought."""

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    filename: Mapped[str] = mapped_column(String(400))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    rows: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SerialPool(Base):
    """Where a product level's serials come from.

    kinds: `csprng` and `ff1` generate; `range` is an enterprise-issued numeric range handed
    out in FF1-permuted order; `list` holds serials or whole codes imported from the enterprise
    as Unallocated rows in `codes`.
    """

    __tablename__ = "serial_pools"
    __table_args__ = (
        CheckConstraint("kind IN ('csprng', 'ff1', 'range', 'list')", name="kind"),
        CheckConstraint("next_counter >= 0", name="counter"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"))
    level: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(8))
    alphabet: Mapped[str | None] = mapped_column(String(100))
    length: Mapped[int | None] = mapped_column(Integer)
    next_counter: Mapped[int] = mapped_column(BigInteger, default=0)
    domain_size: Mapped[int | None] = mapped_column(BigInteger)
    """How many serials a range holds; None for a generator, whose format gives its space
    (which may exceed what a BIGINT holds)."""
    range_start: Mapped[int | None] = mapped_column(BigInteger)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id"))
    """The import that brought the pool; None for a generator."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Batch(Base):
    """A production batch of one product (R-PROD-1: a unique batch ID at creation)."""

    __tablename__ = "batches"
    __table_args__ = (UniqueConstraint("product_id", "lot"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"))
    line_id: Mapped[str] = mapped_column(ForeignKey("lines.id"))
    lot: Mapped[str] = mapped_column(String(20))
    expiry: Mapped[date | None] = mapped_column(Date)
    production_date: Mapped[date | None] = mapped_column(Date)
    planned_quantity: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Allocation(Base):
    """One call of `allocate`: which line and batch received which codes, and when."""

    __tablename__ = "allocations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    line_id: Mapped[str] = mapped_column(ForeignKey("lines.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    level: Mapped[str] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Code(Base):
    __tablename__ = "codes"
    __table_args__ = (
        Index("ix_codes_pool_state", "pool_id", "state"),
        Index("ix_codes_allocation", "allocation_id"),
        CheckConstraint("state BETWEEN 0 AND 11", name="state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("serial_pools.id"))
    serial: Mapped[str] = mapped_column(String(100))
    state: Mapped[int] = mapped_column(SmallInteger)
    allocation_id: Mapped[int | None] = mapped_column(ForeignKey("allocations.id"))
    data: Mapped[str | None] = mapped_column(String(200))
    """The payload as printed, fixed at allocation (lot and expiry come from the batch)."""
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("codes.id"), index=True)
    """The aggregate (case, pallet) the code is packed in now; derived from the journal."""


class CodeTransition(Base):
    """Every state change made after allocation, with its reason."""

    __tablename__ = "code_transitions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("codes.id"), index=True)
    from_state: Mapped[int] = mapped_column(SmallInteger)
    to_state: Mapped[int] = mapped_column(SmallInteger)
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class JournalEventRow(Base):
    """One production event of a batch, hash-chained per batch (`ebr.journal`).

    Append-only: migration 0004 makes the database refuse UPDATE and DELETE. `data` is stored
    as the canonical JSON that is hashed.
    """

    __tablename__ = "journal_events"
    __table_args__ = (
        UniqueConstraint("batch_id", "seq"),
        Index("ix_journal_events_code_key", "code_key"),
        Index("ix_journal_events_batch_id_kind", "batch_id", "kind"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(40))
    unit_ref: Mapped[str | None] = mapped_column(String(40))
    code_key: Mapped[str | None] = mapped_column(String(100))
    data: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class RecordAcknowledgement(Base):
    """A consumer (the upstream MES) confirmed it holds every record up to `sequence`.

    Append-only (migration 0005): a consumer's cursor is its highest acknowledged sequence, so
    an acknowledgement never moves it back and the history of acknowledgements is kept.
    """

    __tablename__ = "record_acknowledgements"
    __table_args__ = (
        Index("ix_record_acknowledgements_consumer_sequence", "consumer", "sequence"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    consumer: Mapped[str] = mapped_column(String(64))
    sequence: Mapped[int] = mapped_column(BigInteger)
    """A `journal_events.id`."""
    username: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# Tables defined in their own modules, imported here so that Base.metadata holds every table.
from ebr import users_models  # noqa: E402, F401
from ebr.audit import models as audit_models  # noqa: E402, F401
from ebr.decoction import models as decoction_models  # noqa: E402, F401
from ebr.execution import models as execution_models  # noqa: E402, F401
from ebr.outbox import models as outbox_models  # noqa: E402, F401
from ebr.recipes import models as recipe_models  # noqa: E402, F401
