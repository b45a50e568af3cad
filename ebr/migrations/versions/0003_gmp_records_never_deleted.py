"""GMP records are never deleted: DELETE (and TRUNCATE) refused by the database itself

Records must be kept at least five years (R-REC-1; R-BAK-1); no one may remove them, the
gateway included. The state-change log is append-only like the audit trail. A database
superuser can still bypass triggers: the audit trail's hash chain is what detects that.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEVER_DELETED = (
    "sites",
    "coding_rules",
    "products",
    "lines",
    "serial_pools",
    "imports",
    "batches",
    "allocations",
    "codes",
)
"""Rows may change (a code's state, a batch's status) but never disappear."""
APPEND_ONLY = ("code_transitions",)
"""Rows may be inserted, never changed or removed."""

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION tracegate_refuse_removal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'tracegate: % on % is refused: GMP records are kept for the whole '
        'retention period and never removed (R-REC-1)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
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
        for table in (*NEVER_DELETED, *APPEND_ONLY):
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION tracegate_refuse_removal()"
            )
        return
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


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in NEVER_DELETED:
        name = f"{table}_never_deleted" if postgres else f"{table}_no_delete"
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if postgres else ""))
    for table in APPEND_ONLY:
        names = (
            [f"{table}_append_only"] if postgres else [f"{table}_no_delete", f"{table}_no_update"]
        )
        for name in names:
            op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if postgres else ""))
    if postgres:
        for table in (*NEVER_DELETED, *APPEND_ONLY):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS tracegate_refuse_removal()")
