"""Production journal and aggregation parents

`journal_events` is the append-only, hash-chained journal of production events per batch
(`ebr.journal`): the database refuses UPDATE, DELETE and TRUNCATE on it, like
`code_transitions`. `codes.parent_id` is the aggregate a code is packed in, derived from the
journal.

On SQLite the column is added with a plain ALTER TABLE, not a batch copy of `codes`: a copy
would drop the table's never-deleted trigger and fail on the rows that refer to it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "journal_events"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("unit_ref", sa.String(length=40), nullable=True),
        sa.Column("code_key", sa.String(length=100), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_journal_events_batch_id_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_events")),
        sa.UniqueConstraint("batch_id", "seq", name=op.f("uq_journal_events_batch_id_seq")),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.add_column(
            "codes",
            sa.Column("parent_id", sa.BigInteger(), nullable=True),
        )
        op.create_foreign_key(
            op.f("fk_codes_parent_id_codes"), "codes", "codes", ["parent_id"], ["id"]
        )
    else:
        op.execute(
            "ALTER TABLE codes ADD COLUMN parent_id INTEGER "
            "CONSTRAINT fk_codes_parent_id_codes REFERENCES codes (id)"
        )
    op.create_index(op.f("ix_codes_parent_id"), "codes", ["parent_id"], unique=False)
    if postgres:
        op.execute(
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION tracegate_refuse_removal()"
        )
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION tracegate_refuse_removal()"
        )
        return
    op.execute(
        f"CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE} "
        f"BEGIN SELECT RAISE(ABORT, 'tracegate: DELETE on {TABLE} is refused: GMP records "
        "are kept for the whole retention period and never removed (R-REC-1)'); END"
    )
    op.execute(
        f"CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
        f"BEGIN SELECT RAISE(ABORT, 'tracegate: UPDATE on {TABLE} is refused: "
        "the table is append-only'); END"
    )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_delete")
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_update")
    op.drop_index(op.f("ix_codes_parent_id"), table_name="codes")
    if postgres:
        op.drop_constraint(op.f("fk_codes_parent_id_codes"), "codes", type_="foreignkey")
    op.drop_column("codes", "parent_id")
    op.drop_table(TABLE)
