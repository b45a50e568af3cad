"""The SQLite engine's set-up: durable commits, and WAL checkpoints off the commit path."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ebr.db import SQLITE_POOL_SIZE, checkpoint_wal, fill_pool, make_engine


def test_a_background_checkpoint_empties_the_wal_into_the_database(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    with engine.begin() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 10_000
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1), (2), (3)")
    before = (tmp_path / "store.db").stat().st_size
    checkpoint_wal(engine)
    assert (tmp_path / "store.db").stat().st_size > before
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO t VALUES (4)")
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 4
    engine.dispose()


def _open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_a_filled_pool_opens_no_file_when_its_connections_are_all_busy(tmp_path: Path) -> None:
    """As many threads as asyncio's default executor runs, and two more, find a connection in
    the filled pool: no overflow connection, whose file SQLite would keep open after it
    closes (the soak's open files went 28 → 29 when the uplinks caught up after an outage)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    size = engine.pool.size()  # type: ignore[attr-defined]
    assert size == SQLITE_POOL_SIZE >= ThreadPoolExecutor()._max_workers + 2
    assert fill_pool(engine) == size
    filled = _open_files()
    busy = threading.Barrier(size + 1)

    def hold() -> None:
        connection = engine.raw_connection()
        busy.wait(timeout=10)
        busy.wait(timeout=10)
        connection.close()

    threads = [threading.Thread(target=hold) for _ in range(size)]
    for thread in threads:
        thread.start()
    busy.wait(timeout=10)
    assert _open_files() == filled
    busy.wait(timeout=10)
    for thread in threads:
        thread.join()
    assert _open_files() == filled
    engine.dispose()


def test_a_database_in_memory_has_no_pool_to_fill() -> None:
    assert fill_pool(make_engine("sqlite://")) == 0
