"""Small SQLAlchemy helpers shared by the store's modules."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, CursorResult, Insert

T = TypeVar("T")


def insert_returning_id(conn: Connection, statement: Insert) -> int:
    """Execute a single-row INSERT and return the new row's integer primary key."""
    result: CursorResult[Any] = conn.execute(statement)
    key = result.inserted_primary_key
    if key is None or key[0] is None:
        raise RuntimeError(f"the database returned no primary key for {statement.table}")
    return int(key[0])


CHUNK = 500
"""Keys per `IN (…)` list: well below SQLite's and PostgreSQL's parameter limits."""


def chunked(items: Sequence[T], size: int = CHUNK) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
