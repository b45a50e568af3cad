"""Trace indexes: a code's journal events without reading the whole batch's journal

`ix_journal_events_code_key` finds the events of one code; `ix_journal_events_batch_id_kind`
narrows the text search for a code named in another event's data (a case's children, a list of
voided or recalled codes) to the few aggregation and list events of its batch. Together they
keep a trace of any code of a 100,000-unit batch well under 100 ms (bench/trace.py).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "journal_events"


def upgrade() -> None:
    op.create_index("ix_journal_events_code_key", TABLE, ["code_key"], unique=False)
    op.create_index("ix_journal_events_batch_id_kind", TABLE, ["batch_id", "kind"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_journal_events_batch_id_kind", table_name=TABLE)
    op.drop_index("ix_journal_events_code_key", table_name=TABLE)
