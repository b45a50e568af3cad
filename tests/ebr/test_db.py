"""The SQLite engine's set-up: durable commits, and WAL checkpoints off the commit path."""

from __future__ import annotations

from pathlib import Path

from ebr.db import checkpoint_wal, make_engine


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
