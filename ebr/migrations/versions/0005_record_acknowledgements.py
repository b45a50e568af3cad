"""Record acknowledgements: how far each upstream consumer has taken the records

`record_acknowledgements` is append-only like the journal it points into: a consumer's cursor
is its highest acknowledged `journal_events.id`, so nothing is ever updated or deleted and the
history of acknowledgements stays readable.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "record_acknowledgements"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("consumer", sa.String(length=64), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_acknowledgements")),
    )
    op.create_index(
        "ix_record_acknowledgements_consumer_sequence",
        TABLE,
        ["consumer", "sequence"],
        unique=False,
    )
    if op.get_bind().dialect.name == "postgresql":
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
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_delete")
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_update")
    op.drop_index("ix_record_acknowledgements_consumer_sequence", table_name=TABLE)
    op.drop_table(TABLE)
