"""Small SQLAlchemy helpers shared by the store's modules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, CursorResult, Insert


def insert_returning_id(conn: Connection, statement: Insert) -> int:
    """Execute a single-row INSERT and return the new row's integer primary key."""
    result: CursorResult[Any] = conn.execute(statement)
    key = result.inserted_primary_key
    if key is None or key[0] is None:
        raise RuntimeError(f"the database returned no primary key for {statement.table}")
    return int(key[0])
