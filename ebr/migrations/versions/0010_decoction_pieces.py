"""Decoction pieces (seed 001 annex 1): production data, herb sources, process steps,
inspection, sales, recalls and attachments of a batch

Every table is append-only, like the audit trail: a correction is a new row naming the row it
supersedes, so the database refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL) on all of
them, with the trigger function of migration 0003.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
CORRECTION_NEEDS_REASON = "supersedes IS NULL OR reason IS NOT NULL"
RECORD_TABLES = (
    "decoction_production",
    "decoction_herb_sources",
    "decoction_process_steps",
    "decoction_inspections",
    "decoction_sales",
    "decoction_recalls",
)
TABLES = (*RECORD_TABLES, "decoction_attachment_contents", "decoction_attachments")


def _recorded_table(table: str, *columns: sa.Column, checks: dict[str, str]) -> None:
    """A record table: its own columns, then who recorded it, when, and what it corrects."""
    op.create_table(
        table,
        *columns,
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("batch_id", ID, nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("recorded_by", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("supersedes", ID, nullable=True),
        sa.CheckConstraint(CORRECTION_NEEDS_REASON, name=op.f(f"ck_{table}_correction_reason")),
        *(
            sa.CheckConstraint(rule, name=op.f(f"ck_{table}_{name}"))
            for name, rule in checks.items()
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f(f"fk_{table}_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes"], [f"{table}.id"], name=op.f(f"fk_{table}_supersedes_{table}")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint("supersedes", name=op.f(f"uq_{table}_supersedes")),
    )
    op.create_index(op.f(f"ix_{table}_batch_id"), table, ["batch_id"], unique=False)


def upgrade() -> None:
    _recorded_table(
        "decoction_production",
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("product_name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_decoction_production_product_id_products"),
        ),
        checks={},
    )
    _recorded_table(
        "decoction_herb_sources",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("herb_name", sa.String(length=100), nullable=False),
        checks={"kind": "kind IN ('self_grown', 'purchased')"},
    )
    _recorded_table(
        "decoction_process_steps",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=True),
        sa.Column("operator", sa.String(length=100), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        checks={
            "kind": "kind IN ('cleaning', 'washing', 'moistening', 'cutting', 'drying', "
            "'processing')",
            "method": "method IN ('steaming', 'stir_frying', 'stir_frying_with_liquid', "
            "'calcining', 'boiling', 'scalding', 'water_grinding', 'fermenting', 'other')",
            "method_for_processing": "(kind = 'processing' AND method IS NOT NULL) OR "
            "(kind <> 'processing' AND method IS NULL)",
        },
    )
    _recorded_table(
        "decoction_inspections",
        sa.Column("conclusion", sa.String(length=16), nullable=False),
        sa.Column("standard", sa.String(length=32), nullable=False),
        sa.Column("report_number", sa.String(length=64), nullable=False),
        sa.Column("inspector_name", sa.String(length=100), nullable=False),
        sa.Column("inspected_on", sa.Date(), nullable=False),
        checks={
            "conclusion": "conclusion IN ('qualified', 'unqualified')",
            "standard": "standard IN ('chp_2020_part1', 'ministry_standard', 'provincial_norm')",
        },
    )
    _recorded_table(
        "decoction_sales",
        sa.Column("sold_on", sa.Date(), nullable=False),
        sa.Column("destination", sa.String(length=32), nullable=False),
        sa.Column("customer_name", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.String(length=40), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("piece_batch_number", sa.String(length=64), nullable=False),
        checks={"destination": "destination IN ('medical_institution', 'wholesaler', 'retailer')"},
    )
    _recorded_table(
        "decoction_recalls",
        sa.Column("recalled_on", sa.Date(), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("recall_reason", sa.Text(), nullable=False),
        checks={},
    )
    op.create_table(
        "decoction_attachment_contents",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decoction_attachment_contents")),
        sa.UniqueConstraint("sha256", name=op.f("uq_decoction_attachment_contents_sha256")),
    )
    op.create_table(
        "decoction_attachments",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("batch_id", ID, nullable=False),
        sa.Column("herb_source_id", ID, nullable=True),
        sa.Column("field", sa.String(length=48), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_id", ID, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("recorded_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "media_type IN ('image/jpeg', "
            "'application/vnd.openxmlformats-officedocument.wordprocessingml.document', "
            "'application/pdf')",
            name=op.f("ck_decoction_attachments_media_type"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_decoction_attachments_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["herb_source_id"],
            ["decoction_herb_sources.id"],
            name=op.f("fk_decoction_attachments_herb_source_id_decoction_herb_sources"),
        ),
        sa.ForeignKeyConstraint(
            ["content_id"],
            ["decoction_attachment_contents.id"],
            name=op.f("fk_decoction_attachments_content_id_decoction_attachment_contents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decoction_attachments")),
    )
    op.create_index(
        op.f("ix_decoction_attachments_batch_id"), "decoction_attachments", ["batch_id"]
    )
    _protect(TABLES)


def _protect(tables: Sequence[str]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in tables:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION tracegate_refuse_removal()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION tracegate_refuse_removal()"
            )
        return
    for table in tables:
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'tracegate: DELETE on {table} is refused: GMP records "
            "are kept for the whole retention period and never removed (R-REC-1)'); END"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'tracegate: UPDATE on {table} is refused: "
            "the table is append-only; record a correction instead'); END"
        )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in reversed(TABLES):
        names = ("append_only", "no_truncate") if postgres else ("no_delete", "no_update")
        for name in names:
            op.execute(
                f"DROP TRIGGER IF EXISTS {table}_{name}" + (f" ON {table}" if postgres else "")
            )
        if table != "decoction_attachment_contents":
            op.drop_index(op.f(f"ix_{table}_batch_id"), table_name=table)
        op.drop_table(table)
