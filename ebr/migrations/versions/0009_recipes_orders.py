"""Master batch records (recipes, their versions) and packaging orders with a control recipe

None of the three tables allows DELETE (R-REC-1). `recipes` is append-only. A recipe version's
content and hash, and everything an order fixed when it was taken (its control recipe copy and
hash above all), cannot be updated: the database refuses an UPDATE that sets those columns, so
only a version's status and approval, and an order's status and batch, ever change.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
NEVER_DELETED = ("recipe_versions", "packaging_orders")
APPEND_ONLY = ("recipes",)
FIXED_COLUMNS = {
    "recipe_versions": (
        "id",
        "recipe_id",
        "version",
        "based_on",
        "content",
        "content_sha256",
        "created_at",
        "author_user_id",
        "author",
    ),
    "packaging_orders": (
        "id",
        "number",
        "source",
        "product_id",
        "line_id",
        "lot",
        "expiry",
        "production_date",
        "quantity",
        "levels",
        "recipe_id",
        "recipe_version",
        "control_recipe",
        "control_recipe_sha256",
        "created_at",
        "created_by_user_id",
        "created_by",
    ),
}
"""Columns fixed when the row is written: an UPDATE naming any of them is refused."""

PG_FIXED_FUNCTION = """
CREATE OR REPLACE FUNCTION tracegate_refuse_fixed_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'tracegate: UPDATE of % is refused: a recipe version''s content and an '
        'order''s control recipe never change once written; edit the recipe to make a new '
        'version', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def upgrade() -> None:
    _create_tables()
    if op.get_bind().dialect.name == "postgresql":
        _postgres_triggers()
    else:
        _sqlite_triggers()


def _create_tables() -> None:
    op.create_table(
        "recipes",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_recipes_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipes")),
        sa.UniqueConstraint("product_id", name=op.f("uq_recipes_product_id")),
    )
    op.create_table(
        "recipe_versions",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("recipe_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("based_on", sa.Integer(), nullable=True),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author_user_id", sa.BigInteger(), nullable=True),
        sa.Column("author", sa.String(length=64), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "status IN ('draft', 'approved', 'superseded', 'retired')",
            name=op.f("ck_recipe_versions_status"),
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_recipe_versions_version")),
        sa.ForeignKeyConstraint(
            ["recipe_id"], ["recipes.id"], name=op.f("fk_recipe_versions_recipe_id_recipes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipe_versions")),
        sa.UniqueConstraint(
            "recipe_id", "version", name=op.f("uq_recipe_versions_recipe_id_version")
        ),
    )
    op.create_table(
        "packaging_orders",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("lot", sa.String(length=20), nullable=False),
        sa.Column("expiry", sa.Date(), nullable=True),
        sa.Column("production_date", sa.Date(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("levels", sa.JSON(), nullable=False),
        sa.Column("recipe_id", sa.String(length=64), nullable=True),
        sa.Column("recipe_version", sa.Integer(), nullable=True),
        sa.Column("control_recipe", sa.JSON(), nullable=True),
        sa.Column("control_recipe_sha256", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("batch_id", BIG_ID, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "source IN ('download', 'manual')", name=op.f("ck_packaging_orders_source")
        ),
        sa.CheckConstraint(
            "status IN ('awaiting_signature', 'accepted', 'ready')",
            name=op.f("ck_packaging_orders_status"),
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_packaging_orders_quantity")),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_packaging_orders_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["line_id"], ["lines.id"], name=op.f("fk_packaging_orders_line_id_lines")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_packaging_orders_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["recipe_id", "recipe_version"],
            ["recipe_versions.recipe_id", "recipe_versions.version"],
            name=op.f("fk_packaging_orders_recipe_id_recipe_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_packaging_orders")),
        sa.UniqueConstraint("batch_id", name=op.f("uq_packaging_orders_batch_id")),
        sa.UniqueConstraint("number", name=op.f("uq_packaging_orders_number")),
        sa.UniqueConstraint("product_id", "lot", name=op.f("uq_packaging_orders_product_id_lot")),
    )


def _postgres_triggers() -> None:
    op.execute(PG_FIXED_FUNCTION)
    for table in NEVER_DELETED:
        op.execute(
            f"CREATE TRIGGER {table}_never_deleted BEFORE DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION tracegate_refuse_removal()"
        )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION tracegate_refuse_removal()"
        )
    for table, columns in FIXED_COLUMNS.items():
        op.execute(
            f"CREATE TRIGGER {table}_fixed_columns BEFORE UPDATE OF {', '.join(columns)} "
            f"ON {table} FOR EACH ROW EXECUTE FUNCTION tracegate_refuse_fixed_change()"
        )
    for table in (*NEVER_DELETED, *APPEND_ONLY):
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION tracegate_refuse_removal()"
        )


def _sqlite_triggers() -> None:
    for table in (*NEVER_DELETED, *APPEND_ONLY):
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'tracegate: DELETE on {table} is refused: GMP records "
            "are kept for the whole retention period and never removed (R-REC-1)'); END"
        )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'tracegate: UPDATE on {table} is refused: "
            "the table is append-only'); END"
        )
    for table, columns in FIXED_COLUMNS.items():
        op.execute(
            f"CREATE TRIGGER {table}_fixed_columns BEFORE UPDATE OF {', '.join(columns)} "
            f"ON {table} BEGIN SELECT RAISE(ABORT, 'tracegate: UPDATE of {table} is refused: "
            "a recipe version''s content and an order''s control recipe never change once "
            "written; edit the recipe to make a new version'); END"
        )


def downgrade() -> None:
    """Dropping a table drops its triggers with it."""
    op.drop_table("packaging_orders")
    op.drop_table("recipe_versions")
    op.drop_table("recipes")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS tracegate_refuse_fixed_change()")
