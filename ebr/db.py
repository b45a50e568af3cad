"""Engines for the two supported databases, set up for durable, serialised writes.

SQLite runs in WAL mode with `synchronous=FULL` (a commit is on disk when it returns) and every
transaction starts with `BEGIN IMMEDIATE`, so two writers queue instead of failing half-way.
PostgreSQL runs through the same models with psycopg 3.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=30000",
    "PRAGMA wal_autocheckpoint=10000",
)
"""A commit that crosses the autocheckpoint copies the WAL into the database and fsyncs it, on
the committing thread; at 10,000 pages that is rare, and a running line checkpoints in the
background instead (`checkpoint_wal`), off the unit pipeline's commit path."""


SQLITE_POOL_SIZE = min(32, (os.cpu_count() or 1) + 4) + 2
"""Connections a file database's pool keeps: one for each thread of asyncio's default executor
(where `asyncio.to_thread` runs the store's calls) and the maintenance scheduler's two. With
fewer, a busy moment (the uplinks catching up after an outage) opened an overflow connection
and closed it on return; SQLite keeps a closed connection's file open while other connections
of the process hold locks on it, so the soak saw one open file more for the rest of the run.
Handed out last-in first-out: the connections a quiet line does not need stay idle, their page
caches small."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and parsed.query.get("uri") != "true":
            _create_private(Path(database))
            kwargs = {"pool_size": SQLITE_POOL_SIZE, "pool_use_lifo": True, **kwargs}
        engine = create_engine(url, **kwargs)
        _set_up_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("", "psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_pre_ping=True, **kwargs)


def fill_pool(engine: Engine) -> int:
    """Open every connection the engine's pool keeps; the number opened.

    The pool otherwise opens a connection the first time that many are busy at once (for a
    running line, after a broker outage perhaps an hour in), and keeps it: a long run filled at
    start holds the same open files from its start to its end, so any growth is a leak."""
    pool = engine.pool
    if not isinstance(pool, QueuePool):
        return 0
    connections = [engine.raw_connection() for _ in range(pool.size())]
    for connection in connections:
        connection.close()
    return len(connections)


def _create_private(path: Path) -> None:
    """A new SQLite database file is made readable by its owner only (0600) before SQLite
    creates it with the process's umask; its WAL and shared-memory files take its mode."""
    if path.parent.is_dir() and not path.exists():
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _set_up_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def checkpoint_wal(engine: Engine) -> None:
    """Copy committed WAL pages into the SQLite database without blocking writers (PASSIVE);
    nothing to do on PostgreSQL."""
    if not is_sqlite(engine):
        return
    with engine.connect() as conn:
        conn.connection.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")  # type: ignore[union-attr]


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
