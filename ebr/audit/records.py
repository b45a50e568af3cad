"""How a signed GMP record is read back as one canonical version, by object type.

An e-signature binds the SHA-256 of this canonical form; verification reads the record again
the same way, so any later change to a signed field shows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection, select

from ebr.audit.chain import canonical_plain
from ebr.execution.loaders import load_deviation, load_entry
from ebr.models import Batch, JournalEventRow
from ebr.recipes.signed import load_packaging_order, load_recipe_version

RecordLoader = Callable[[Connection, str], Mapping[str, Any] | None]


def load_batch(conn: Connection, object_id: str) -> Mapping[str, Any] | None:
    if not object_id.isdigit():
        return None
    row = conn.execute(select(Batch.__table__).where(Batch.id == int(object_id))).mappings().first()
    return None if row is None else dict(row)


def load_journal_entry(conn: Connection, object_id: str) -> Mapping[str, Any] | None:
    """A production journal entry, `<batch id>:<seq>`: signed records such as a line
    clearance are journal entries, which never change once written."""
    batch, _, seq = object_id.partition(":")
    if not (batch.isdigit() and seq.isdigit()):
        return None
    table = JournalEventRow.__table__
    row = (
        conn.execute(select(table).where(table.c.batch_id == int(batch), table.c.seq == int(seq)))
        .mappings()
        .first()
    )
    return None if row is None else dict(row)


DEFAULT_LOADERS: Mapping[str, RecordLoader] = {
    "batch": load_batch,
    "journal_entry": load_journal_entry,
    "recipe_version": load_recipe_version,
    "packaging_order": load_packaging_order,
    "ebr_entry": load_entry,
    "ebr_deviation": load_deviation,
}


def canonical_record(record: Mapping[str, Any]) -> str:
    return canonical_plain(record)
