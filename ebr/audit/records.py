"""How a signed GMP record is read back as one canonical version, by object type.

An e-signature binds the SHA-256 of this canonical form; verification reads the record again
the same way, so any later change to a signed field shows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection, select

from ebr.audit.chain import canonical_plain
from ebr.models import Batch

RecordLoader = Callable[[Connection, str], Mapping[str, Any] | None]


def load_batch(conn: Connection, object_id: str) -> Mapping[str, Any] | None:
    if not object_id.isdigit():
        return None
    row = conn.execute(select(Batch.__table__).where(Batch.id == int(object_id))).mappings().first()
    return None if row is None else dict(row)


DEFAULT_LOADERS: Mapping[str, RecordLoader] = {"batch": load_batch}


def canonical_record(record: Mapping[str, Any]) -> str:
    return canonical_plain(record)
