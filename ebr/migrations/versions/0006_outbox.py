"""Outbox: upward messages until their receiver acknowledges them

`outbox_messages` holds one row per message and destination, written in the journal's
transaction and deleted after the receiver's acknowledgement: transport copies, not GMP records
(the journal keeps the record), so unlike the journal the table allows DELETE. `outbox_streams`
keeps each stream's last sequence and hash, and its current size for the outbox's limit.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_messages",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("destination", sa.String(length=32), nullable=False),
        sa.Column("sender", sa.String(length=130), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("journal_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_messages_destination_state_id", ["destination", "state", "id"], unique=False
        )
        batch_op.create_index(
            "uq_outbox_messages_stream_seq", ["destination", "sender", "seq"], unique=True
        )

    op.create_table(
        "outbox_streams",
        sa.Column("destination", sa.String(length=32), nullable=False),
        sa.Column("sender", sa.String(length=130), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("destination", "sender", name=op.f("pk_outbox_streams")),
    )


def downgrade() -> None:
    op.drop_table("outbox_streams")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("uq_outbox_messages_stream_seq")
        batch_op.drop_index("ix_outbox_messages_destination_state_id")

    op.drop_table("outbox_messages")
