"""users, audit trail, signatures

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 16:13:38.488354
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=64), nullable=False),
        sa.Column("object_id", sa.String(length=200), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_entries")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_entries_hash")),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entries_at", ["at"], unique=False)
        batch_op.create_index("ix_audit_entries_event", ["event"], unique=False)
        batch_op.create_index("ix_audit_entries_object", ["object_type", "object_id"], unique=False)
        batch_op.create_index("ix_audit_entries_user", ["user_id"], unique=False)

    op.create_table(
        "audit_keys",
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("registered_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_audit_keys")),
    )
    op.create_table(
        "e_signatures",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("printed_name", sa.String(length=200), nullable=False),
        sa.Column("meaning", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=64), nullable=False),
        sa.Column("object_id", sa.String(length=200), nullable=False),
        sa.Column("record_hash", sa.String(length=64), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.String(length=32), nullable=False),
        sa.Column("audit_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_e_signatures")),
    )
    with op.batch_alter_table("e_signatures", schema=None) as batch_op:
        batch_op.create_index("ix_e_signatures_object", ["object_type", "object_id"], unique=False)

    op.create_table(
        "users",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("badge", sa.String(length=64), nullable=True),
        sa.Column("pin_hash", sa.String(length=200), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('operator', 'supervisor', 'qa', 'engineer', 'administrator')",
            name=op.f("ck_users_role"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("badge", name=op.f("uq_users_badge")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("entry_seq", sa.BigInteger(), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"], ["audit_keys.key_id"], name=op.f("fk_audit_checkpoints_key_id_audit_keys")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_checkpoints")),
    )

    op.create_table(
        "clock_readings",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("offset_us", sa.BigInteger(), nullable=True),
        sa.Column("within_tolerance", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clock_readings")),
    )
    with op.batch_alter_table("clock_readings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clock_readings_at"), ["at"], unique=False)

    _install_triggers()


APPEND_ONLY = (
    "audit_entries",
    "audit_checkpoints",
    "audit_keys",
    "e_signatures",
    "clock_readings",
)
"""Tables whose rows may be inserted, never changed or removed."""
NEVER_DELETED = ("users",)
"""Tables whose rows may change but never disappear (user ids are never reused)."""

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION tracegate_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'tracegate: % on % is refused: the table is append-only (R-AUD-2)',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def _install_triggers() -> None:
    """UPDATE and DELETE (and TRUNCATE on PostgreSQL) refused by the database itself."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION tracegate_refuse_change()"
            )
        for table in (*APPEND_ONLY, *NEVER_DELETED):
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION tracegate_refuse_change()"
            )
        for table in NEVER_DELETED:
            op.execute(
                f"CREATE TRIGGER {table}_never_deleted BEFORE DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION tracegate_refuse_change()"
            )
        return
    for table in APPEND_ONLY:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'tracegate: {operation} on {table} is refused: "
                "the table is append-only (R-AUD-2)'); END"
            )
    for table in NEVER_DELETED:
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'tracegate: DELETE on {table} is refused: "
            "accounts are deactivated, never deleted (user ids are never reused)'); END"
        )


def downgrade() -> None:
    with op.batch_alter_table("clock_readings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clock_readings_at"))

    op.drop_table("clock_readings")
    op.drop_table("audit_checkpoints")
    op.drop_table("users")
    with op.batch_alter_table("e_signatures", schema=None) as batch_op:
        batch_op.drop_index("ix_e_signatures_object")

    op.drop_table("e_signatures")
    op.drop_table("audit_keys")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entries_user")
        batch_op.drop_index("ix_audit_entries_object")
        batch_op.drop_index("ix_audit_entries_event")
        batch_op.drop_index("ix_audit_entries_at")

    op.drop_table("audit_entries")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS tracegate_refuse_change()")
