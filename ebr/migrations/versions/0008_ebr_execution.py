"""EBR execution: the executed batch record's steps, entries, exceptions, deviations, checks

Protected by the database like the other GMP records (migration 0003): `ebr_steps` and
`ebr_entries` are append-only (a correction is a new entry); `ebr_exceptions`, `ebr_deviations`
and `ebr_checks` are never deleted, their identifying columns never change, and a row is
changed at most until it is settled (acknowledged, closed, done), never after.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
STEPS = (
    "header",
    "clearance",
    "materials_issued",
    "setup",
    "challenge",
    "production",
    "counts",
    "reconciliation",
    "materials_reconciled",
    "review",
    "release",
)
KINDS = (
    "out_of_limit",
    "deviation",
    "manual_override",
    "missed_check",
    "reconciliation_breach",
    "yield_breach",
    "late_verdicts",
    "data_changed",
)
SEVERITIES = ("minor", "major", "critical")

APPEND_ONLY = ("ebr_steps", "ebr_entries")
SETTLED_ONCE = {
    "ebr_exceptions": (
        "OLD.acknowledged_at IS NOT NULL",
        ("batch_id", "kind", "severity", "subject", "ref", "raised_at"),
    ),
    "ebr_deviations": (
        "OLD.status = 'closed'",
        (
            "batch_id",
            "severity",
            "title",
            "description",
            "reason",
            "qms_reference",
            "entry_id",
            "opened_at",
            "opened_by_user_id",
            "opened_by",
        ),
    ),
    "ebr_checks": ("OLD.entry_id IS NOT NULL", ("batch_id", "name", "due_at")),
}
"""Table: (when a row is settled, the columns that never change)."""
SETTLED = "the row is settled (acknowledged, closed or done) and is kept as it is"
FIXED = "these columns are fixed when the row is written"

PG_REFUSE_CHANGE = """
CREATE OR REPLACE FUNCTION tracegate_execution_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'tracegate: % on % is refused: %', TG_OP, TG_TABLE_NAME, TG_ARGV[0]
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def _one_of(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def upgrade() -> None:
    _create_tables()
    if op.get_bind().dialect.name == "postgresql":
        _protect_postgresql()
    else:
        _protect_sqlite()


def _create_tables() -> None:
    op.create_table(
        "ebr_steps",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("batch_id", ID, nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("done_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint(_one_of("step", STEPS), name=op.f("ck_ebr_steps_step")),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_ebr_steps_batch_id_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ebr_steps")),
        sa.UniqueConstraint("batch_id", "step", name=op.f("uq_ebr_steps_batch_id_step")),
    )
    op.create_table(
        "ebr_entries",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("batch_id", ID, nullable=False),
        sa.Column("section", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=True),
        sa.Column("low", sa.String(length=40), nullable=True),
        sa.Column("high", sa.String(length=40), nullable=True),
        sa.Column("in_limits", sa.Boolean(), nullable=True),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("recorded_by", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=True),
        sa.Column("supersedes", ID, nullable=True),
        sa.CheckConstraint(
            _one_of("source", ("line", "tag", "manual")), name=op.f("ck_ebr_entries_source")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_ebr_entries_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes"], ["ebr_entries.id"], name=op.f("fk_ebr_entries_supersedes_ebr_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ebr_entries")),
    )
    op.create_index(
        "ix_ebr_entries_batch_id_section", "ebr_entries", ["batch_id", "section"], unique=False
    )
    op.create_table(
        "ebr_exceptions",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("batch_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("ref", sa.String(length=200), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.CheckConstraint(_one_of("kind", KINDS), name=op.f("ck_ebr_exceptions_kind")),
        sa.CheckConstraint(
            _one_of("severity", SEVERITIES), name=op.f("ck_ebr_exceptions_severity")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_ebr_exceptions_batch_id_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ebr_exceptions")),
        sa.UniqueConstraint(
            "batch_id", "kind", "ref", name=op.f("uq_ebr_exceptions_batch_id_kind_ref")
        ),
    )
    op.create_table(
        "ebr_deviations",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("batch_id", ID, nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("qms_reference", sa.String(length=100), nullable=True),
        sa.Column("entry_id", ID, nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("opened_by", sa.String(length=64), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("close_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            _one_of("severity", SEVERITIES), name=op.f("ck_ebr_deviations_severity")
        ),
        sa.CheckConstraint(
            _one_of("status", ("open", "closed")), name=op.f("ck_ebr_deviations_status")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_ebr_deviations_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["ebr_entries.id"], name=op.f("fk_ebr_deviations_entry_id_ebr_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ebr_deviations")),
    )
    op.create_index("ix_ebr_deviations_batch_id", "ebr_deviations", ["batch_id"], unique=False)
    op.create_table(
        "ebr_checks",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("batch_id", ID, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entry_id", ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_ebr_checks_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["ebr_entries.id"], name=op.f("fk_ebr_checks_entry_id_ebr_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ebr_checks")),
        sa.UniqueConstraint(
            "batch_id", "name", "due_at", name=op.f("uq_ebr_checks_batch_id_name_due_at")
        ),
    )


def _protect_postgresql() -> None:
    op.execute(PG_REFUSE_CHANGE)
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION tracegate_refuse_removal()"
        )
    for table, (settled, fixed) in SETTLED_ONCE.items():
        op.execute(
            f"CREATE TRIGGER {table}_never_deleted BEFORE DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION tracegate_refuse_removal()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_settled BEFORE UPDATE ON {table} FOR EACH ROW "
            f"WHEN ({settled}) EXECUTE FUNCTION tracegate_execution_refuse_change('{SETTLED}')"
        )
        op.execute(
            f"CREATE TRIGGER {table}_fixed BEFORE UPDATE OF {', '.join(fixed)} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION tracegate_execution_refuse_change('{FIXED}')"
        )
    for table in (*APPEND_ONLY, *SETTLED_ONCE):
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION tracegate_refuse_removal()"
        )


def _protect_sqlite() -> None:
    for table in (*APPEND_ONLY, *SETTLED_ONCE):
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
    for table, (settled, fixed) in SETTLED_ONCE.items():
        op.execute(
            f"CREATE TRIGGER {table}_settled BEFORE UPDATE ON {table} WHEN {settled} "
            f"BEGIN SELECT RAISE(ABORT, 'tracegate: UPDATE on {table} is refused: {SETTLED}'); "
            "END"
        )
        op.execute(
            f"CREATE TRIGGER {table}_fixed BEFORE UPDATE OF {', '.join(fixed)} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'tracegate: UPDATE on {table} is refused: {FIXED}'); "
            "END"
        )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    triggers = dict.fromkeys(APPEND_ONLY, ("append_only", "no_truncate"))
    triggers.update(
        dict.fromkeys(SETTLED_ONCE, ("never_deleted", "settled", "fixed", "no_truncate"))
    )
    if not postgres:
        triggers = dict.fromkeys(APPEND_ONLY, ("no_delete", "no_update"))
        triggers.update(dict.fromkeys(SETTLED_ONCE, ("no_delete", "settled", "fixed")))
    for table, names in triggers.items():
        for name in names:
            on = f" ON {table}" if postgres else ""
            op.execute(f"DROP TRIGGER IF EXISTS {table}_{name}{on}")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS tracegate_execution_refuse_change()")
    op.drop_table("ebr_checks")
    op.drop_index("ix_ebr_deviations_batch_id", table_name="ebr_deviations")
    op.drop_table("ebr_deviations")
    op.drop_table("ebr_exceptions")
    op.drop_index("ix_ebr_entries_batch_id_section", table_name="ebr_entries")
    op.drop_table("ebr_entries")
    op.drop_table("ebr_steps")
