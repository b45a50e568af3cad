"""Tables of master batch records and the packaging orders that carry them (migration 0009).

A recipe (master batch record) belongs to one product; its content lives in versions. A version's
content and hash never change once written (a database trigger refuses it): editing makes a new
version, and only the status moves (draft, approved, superseded, retired). A packaging order
holds a copy of the approved content it was made from (the control recipe) and that copy's hash,
never a pointer to the version, so a later edit or approval cannot reach a running order.
None of the three tables allows DELETE; `recipes` is append-only.
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
    ForeignKeyConstraint,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ebr.models import Base, BigId

VERSION_STATUSES = ("draft", "approved", "superseded", "retired")
ORDER_SOURCES = ("download", "manual")
ORDER_STATUSES = ("awaiting_signature", "accepted", "ready")
"""`awaiting_signature`: made by hand, not signed yet; `accepted`: may be produced, its batch not
made yet; `ready`: its batch exists and the line may run it."""
MAX_ORDER_NUMBER_LENGTH = 100


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class RecipeRow(Base):
    """A product's master batch record: its identity; the content is in its versions."""

    __tablename__ = "recipes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[str | None] = mapped_column(String(64))


class RecipeVersionRow(Base):
    """One version of a recipe's content. Only `status` and the approval columns change."""

    __tablename__ = "recipe_versions"
    __table_args__ = (
        UniqueConstraint("recipe_id", "version"),
        CheckConstraint(_one_of("status", VERSION_STATUSES), name="status"),
        CheckConstraint("version >= 1", name="version"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    recipe_id: Mapped[str] = mapped_column(ForeignKey("recipes.id"))
    version: Mapped[int] = mapped_column(Integer)
    based_on: Mapped[int | None] = mapped_column(Integer)
    """The version this one was edited from; None for the first."""
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_sha256: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the content's canonical JSON."""
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    author_user_id: Mapped[int | None] = mapped_column(BigInteger)
    author: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[str | None] = mapped_column(String(64))


class PackagingOrderRow(Base):
    """A packaging order, its control recipe (a copy, with its hash) and the batch it made.

    Only `status` and `batch_id` change; every other column is fixed when the order is taken.
    """

    __tablename__ = "packaging_orders"
    __table_args__ = (
        UniqueConstraint("product_id", "lot"),
        ForeignKeyConstraint(
            ["recipe_id", "recipe_version"],
            ["recipe_versions.recipe_id", "recipe_versions.version"],
        ),
        CheckConstraint(_one_of("source", ORDER_SOURCES), name="source"),
        CheckConstraint(_one_of("status", ORDER_STATUSES), name="status"),
        CheckConstraint("quantity > 0", name="quantity"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(MAX_ORDER_NUMBER_LENGTH), unique=True)
    source: Mapped[str] = mapped_column(String(16))
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"))
    line_id: Mapped[str] = mapped_column(ForeignKey("lines.id"))
    lot: Mapped[str] = mapped_column(String(20))
    expiry: Mapped[date | None] = mapped_column(Date)
    production_date: Mapped[date] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer)
    levels: Mapped[list[Any]] = mapped_column(JSON)
    """Packaging levels as produced: `[{"level", "quantity", "coding_rule"}]`, smallest first."""
    recipe_id: Mapped[str | None] = mapped_column(String(64))
    recipe_version: Mapped[int | None] = mapped_column(Integer)
    control_recipe: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The approved version's content as it was when the order was taken."""
    control_recipe_sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(24))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[str | None] = mapped_column(String(64))


APPEND_ONLY_TABLES = (RecipeRow.__tablename__,)
"""Rows are only ever inserted: the database refuses UPDATE and DELETE (migration 0009)."""
CHANGING_COLUMNS = {
    RecipeVersionRow.__tablename__: ("status", "approved_at", "approved_by"),
    PackagingOrderRow.__tablename__: ("status", "batch_id"),
}
"""Tables whose rows are never deleted: the only columns an UPDATE may set. The database refuses
an UPDATE naming any other column (migration 0009)."""
