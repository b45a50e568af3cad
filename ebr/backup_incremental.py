"""Logical incremental backups: which rows changed since a backup, how to apply them, and a
digest of every table to prove a restore equals the live database at the backup's moment.

GMP rows are never deleted (migrations 0003, 0008-0010), so what changed since backup B is:
- in growing tables, the rows whose integer key is above B's high-water mark;
- in `codes`, also the codes named by state changes above B's `code_transitions` mark, the
  codes handed to allocations above B's `allocations` mark (imported codes change that way),
  and every code of a batch with production journal events above B's `journal_events` mark
  (packing moves `codes.parent_id` without a state change; the aggregation rules keep a
  parent and its children in one batch);
- in the executed record's exceptions, deviations and scheduled checks, which are settled once
  (acknowledged, closed, done) after they are written, also the rows that audit entries above
  B's `audit_entries` mark name (each change is audited in the transaction that makes it);
- every other table (master data, pools, batches, users, keys, recipes, orders) is small and
  copied whole.
Rows are applied as the database's own triggers allow: append-only tables take inserts of the
rows they lack; tables whose triggers let only some columns change (settled once, or fixed
when written) get those columns updated where they differ, and nothing else.
Nothing is added to the allocation path: no triggers, no extra columns.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Table,
    create_engine,
    delete,
    event,
    func,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.pool import NullPool

from ebr.audit.bundle import one_snapshot
from ebr.audit.triggers import APPEND_ONLY_TABLES
from ebr.decoction.models import APPEND_ONLY_TABLES as DECOCTION_TABLES
from ebr.errors import StoreError
from ebr.execution.checks import OBJECT as CHECK_OBJECT
from ebr.execution.exceptions import OBJECT as EXCEPTION_OBJECT
from ebr.execution.models import APPEND_ONLY_TABLES as EXECUTION_APPEND_ONLY
from ebr.execution.models import (
    SETTLING_COLUMNS,
    DeviationRow,
    ExceptionRow,
    ScheduledCheckRow,
)
from ebr.execution.signing import DEVIATION_OBJECT
from ebr.models import Base
from ebr.recipes.models import CHANGING_COLUMNS

ADDED_LATER = dict.fromkeys(
    (
        "journal_events",
        "record_acknowledgements",
        *EXECUTION_APPEND_ONLY,
        *SETTLING_COLUMNS,
        *DECOCTION_TABLES,
    ),
    0,
)
"""Growing tables newer than some base backups: such a backup was made while they were empty."""
GROWING = frozenset(
    {
        "imports",
        "allocations",
        "codes",
        "code_transitions",
        "audit_entries",
        "audit_checkpoints",
        "e_signatures",
        "clock_readings",
        *ADDED_LATER,
    }
)
"""Tables whose rows are only ever added (codes and the settled-once tables also change; see
`changed_rows`)."""
INSERT_ONLY = frozenset(APPEND_ONLY_TABLES)
"""Tables whose triggers refuse UPDATE: applied as inserts that skip rows already present."""
UPDATABLE_COLUMNS = {**SETTLING_COLUMNS, **CHANGING_COLUMNS}
"""Tables whose triggers refuse an UPDATE of any other column (or of a settled row): applied by
setting only these columns, and only in rows where one of them differs."""
SETTLED_AFTER_WRITING = {
    ExceptionRow.__tablename__: EXCEPTION_OBJECT,
    DeviationRow.__tablename__: DEVIATION_OBJECT,
    ScheduledCheckRow.__tablename__: CHECK_OBJECT,
}
"""Growing tables whose rows are settled after they are written, and the audit object type
their changes are recorded under."""
REPLACED_PER_PRODUCT = "product_levels"
"""The only table whose rows are deleted (a product's levels are replaced as a whole)."""

Rows = dict[str, list[dict[str, Any]]]

EMPTY_TABLE_DIGEST = [0, hashlib.sha256().hexdigest()]
"""The digest of a table without rows."""


def tables() -> list[Table]:
    """Every table of the store, parents before children."""
    return list(Base.metadata.sorted_tables)


@contextmanager
def snapshot_connection(engine: Engine) -> Iterator[Connection]:
    """A read-only connection seeing one state of the database without blocking writers.

    The store's SQLite engine begins every transaction with BEGIN IMMEDIATE, which would hold
    allocations back for the whole backup; a deferred transaction in WAL mode reads a snapshot
    while writers carry on.
    """
    if engine.dialect.name != "sqlite":
        with engine.connect() as conn:
            one_snapshot(conn)
            yield conn
            conn.rollback()
        return
    reader = create_engine(engine.url, poolclass=NullPool)

    @event.listens_for(reader, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA busy_timeout=30000")

    @event.listens_for(reader, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")

    try:
        with reader.connect() as conn:
            conn.begin()
            yield conn
            conn.rollback()
    finally:
        reader.dispose()


def _key(table: Table) -> Column[Any]:
    (column,) = table.primary_key.columns
    return column


def high_water_marks(conn: Connection) -> dict[str, int]:
    marks = {}
    for table in tables():
        if table.name in GROWING:
            key = _key(table)
            marks[table.name] = int(conn.execute(select(func.max(key))).scalar_one() or 0)
    return marks


def changed_rows(conn: Connection, marks: dict[str, int]) -> Rows:
    """Every row added or changed since the backup whose high-water marks are `marks`."""
    marks = {**ADDED_LATER, **marks}
    missing = sorted(GROWING - marks.keys())
    if missing:
        raise StoreError(
            f"the base backup records no high-water mark for {', '.join(missing)}",
            hint="it predates logical incrementals; make a full backup first",
        )
    found: Rows = {}
    for table in tables():
        query = select(table)
        if table.name == "codes":
            transitions = Base.metadata.tables["code_transitions"]
            allocations = Base.metadata.tables["allocations"]
            journal = Base.metadata.tables["journal_events"]
            query = query.where(
                or_(
                    table.c.id > marks["codes"],
                    table.c.id.in_(
                        select(transitions.c.code_id).where(
                            transitions.c.id > marks["code_transitions"]
                        )
                    ),
                    table.c.allocation_id > marks["allocations"],
                    table.c.allocation_id.in_(
                        select(allocations.c.id).where(
                            allocations.c.batch_id.in_(
                                select(journal.c.batch_id).where(
                                    journal.c.id > marks["journal_events"]
                                )
                            )
                        )
                    ),
                )
            )
        elif table.name in SETTLED_AFTER_WRITING:
            audited = _audited_ids(conn, SETTLED_AFTER_WRITING[table.name], marks["audit_entries"])
            query = query.where(or_(_key(table) > marks[table.name], _key(table).in_(audited)))
        elif table.name in GROWING:
            query = query.where(_key(table) > marks[table.name])
        query = query.order_by(*table.primary_key.columns)
        found[table.name] = [
            {name: _encode(value) for name, value in row.items()}
            for row in conn.execute(query).mappings()
        ]
    return found


def _audited_ids(conn: Connection, object_type: str, audit_mark: int) -> list[int]:
    """The integer ids of the objects of this type that audit entries above the mark name."""
    entries = Base.metadata.tables["audit_entries"]
    named = conn.execute(
        select(entries.c.object_id)
        .distinct()
        .where(entries.c.seq > audit_mark, entries.c.object_type == object_type)
    ).scalars()
    return sorted(int(name) for name in named if name.isdigit())


def apply_rows(conn: Connection, rows: Rows) -> None:
    """Apply an incremental's rows on top of a restored backup, in one transaction."""
    known = {table.name for table in tables()}
    unexpected = sorted(rows.keys() - known)
    absent = sorted(known - rows.keys())
    if unexpected or absent:
        raise StoreError(
            f"the incremental does not match the schema (unknown tables {unexpected}, "
            f"missing tables {absent})",
            hint="restore it with the gateway version that made it",
        )
    for table in tables():
        sqlite = conn.dialect.name == "sqlite"
        values = [_decode(table, row, sqlite=sqlite) for row in rows[table.name]]
        if table.name == REPLACED_PER_PRODUCT:
            conn.execute(delete(table))
        if not values:
            continue
        statement = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)
        keys = [column.name for column in table.primary_key.columns]
        others = [column.name for column in table.columns if column.name not in keys]
        if table.name in INSERT_ONLY or not others:
            conn.execute(statement.on_conflict_do_nothing(index_elements=keys), values)
        elif table.name in UPDATABLE_COLUMNS:
            updatable = UPDATABLE_COLUMNS[table.name]
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=keys,
                    set_={name: statement.excluded[name] for name in updatable},
                    where=or_(
                        *(
                            table.c[name].is_distinct_from(statement.excluded[name])
                            for name in updatable
                        )
                    ),
                ),
                values,
            )
        else:
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=keys, set_={name: statement.excluded[name] for name in others}
                ),
                values,
            )
    if conn.dialect.name == "postgresql":
        _advance_sequences(conn)


def _advance_sequences(conn: Connection) -> None:
    for table in tables():
        if len(table.primary_key.columns) != 1:
            continue
        key = _key(table)
        if key.autoincrement is False or key.type.python_type is not int:
            continue
        sequence = func.pg_get_serial_sequence(table.name, key.name)
        conn.execute(select(func.setval(sequence, select(func.max(key)).scalar_subquery())))


def table_digests(conn: Connection) -> dict[str, list[Any]]:
    """Per table: [row count, SHA-256 over its canonical rows in key order]."""
    digests: dict[str, list[Any]] = {}
    for table in tables():
        digest = hashlib.sha256()
        count = 0
        query = select(table).order_by(*table.primary_key.columns)
        for row in conn.execute(query.execution_options(yield_per=5000)):
            digest.update(_canonical([_encode(_as_utc(value)) for value in row]))
            count += 1
        digests[table.name] = [count, digest.hexdigest()]
    return digests


def differing_tables(expected: dict[str, list[Any]], found: dict[str, list[Any]]) -> list[str]:
    """The tables whose digests differ; a table a backup's manifest does not name is newer
    than the backup, which saw it empty."""
    names = sorted(expected.keys() | found.keys())
    return [name for name in names if expected.get(name, EMPTY_TABLE_DIGEST) != found.get(name)]


def _canonical(values: list[Any]) -> bytes:
    return (
        json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    ).encode("utf-8")


def _as_utc(value: Any) -> Any:
    """A moment as naive UTC: SQLite keeps a timestamp's text as written (with or without an
    offset) and gives it back either way, so digests compare moments, not spellings."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _encode(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _decode(table: Table, row: dict[str, Any], *, sqlite: bool) -> dict[str, Any]:
    decoded: dict[str, Any] = {}
    for name, value in row.items():
        column = table.columns.get(name)
        if column is None:
            raise StoreError(f"the incremental names a column {table.name}.{name} we do not have")
        if isinstance(value, str) and isinstance(column.type, DateTime):
            moment = datetime.fromisoformat(value)
            decoded[name] = _as_utc(moment) if sqlite else moment
        elif isinstance(value, str) and isinstance(column.type, Date):
            decoded[name] = date.fromisoformat(value)
        else:
            decoded[name] = value
    return decoded
