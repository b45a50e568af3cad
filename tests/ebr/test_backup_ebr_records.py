"""The executed record, recipes, orders and decoction pieces in the incremental backups, on SQLite
and PostgreSQL: rows settled after the full backup (an exception acknowledged, a deviation
closed, a check done, a recipe version approved, an order signed) reach the restore through the
updates their triggers allow, an incremental carries only what changed, and a full backup made
before these tables existed still carries the incrementals that fill them."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from ebr.audit.bundle import verify_database
from ebr.audit.triggers import APPEND_ONLY_TABLES, NEVER_DELETED_TABLES
from ebr.backup import MANIFEST_SUFFIX, BackupError, BackupManifest, Backups, file_sha256
from ebr.backup_incremental import (
    ADDED_LATER,
    GROWING,
    INSERT_ONLY,
    SETTLED_AFTER_WRITING,
    UPDATABLE_COLUMNS,
    table_digests,
)
from ebr.db import make_engine
from ebr.models import Base
from ebr.schema import upgrade
from tests.conftest import sqlite_url
from tests.ebr.backup_ebr_site import EBR_TABLES, EbrRecordsSite


class Plant:
    """The site and its backups."""

    def __init__(self, engine: Engine, directory: Path) -> None:
        self.site = EbrRecordsSite(engine)
        self.directory = directory
        self.backups = Backups(self.site.trail, directory)

    def backup(self, kind: str) -> tuple[BackupManifest, dict[str, list[Any]]]:
        self.site.clock.advance(timedelta(minutes=1))
        with self.site.engine.connect() as conn:
            live = table_digests(conn)
        manifest = self.backups.full() if kind == "full" else self.backups.incremental()
        return manifest, live

    def path(self, manifest: BackupManifest) -> Path:
        return self.directory / (manifest.file + MANIFEST_SUFFIX)

    def segment(self, manifest: BackupManifest) -> dict[str, list[dict[str, Any]]]:
        tables: dict[str, list[dict[str, Any]]] = json.loads(
            (self.directory / manifest.file).read_text(encoding="utf-8")
        )["tables"]
        return tables

    def restored_digests(self, manifest: BackupManifest) -> dict[str, list[Any]]:
        with self.backups.restored(self.path(manifest)) as fresh:
            assert verify_database(fresh).ok
            with fresh.connect() as conn:
                return table_digests(conn)


def test_every_ebr_table_is_classified_as_its_triggers_protect_it() -> None:
    tables = {table.name: table for table in Base.metadata.sorted_tables}
    assert set(EBR_TABLES) <= set(APPEND_ONLY_TABLES) | set(NEVER_DELETED_TABLES)
    for name in EBR_TABLES:
        key = list(tables[name].primary_key.columns)
        integer_key = len(key) == 1 and key[0].type.python_type is int
        assert (name in INSERT_ONLY) == (name in APPEND_ONLY_TABLES), name
        assert (name in INSERT_ONLY) != (name in UPDATABLE_COLUMNS), name
        assert name in GROWING or name in UPDATABLE_COLUMNS or not integer_key, name
    assert GROWING & UPDATABLE_COLUMNS.keys() == SETTLED_AFTER_WRITING.keys()
    assert set(ADDED_LATER) <= GROWING


def test_settled_rows_and_new_rows_of_every_ebr_table_restore_exactly(
    engine: Engine, tmp_path: Path
) -> None:
    plant = Plant(engine, tmp_path / "backups")
    site = plant.site
    site.before()
    assert all(plant.site.counts().values()), plant.site.counts()
    full, at_full = plant.backup("full")
    before = site.counts()

    site.after()
    incremental, at_incremental = plant.backup("incremental")

    # Making a backup restores it (the incremental on top of the full one) into a fresh
    # database, verifies the chain there and compares every table's digest with the manifest's.
    assert (full.digests, incremental.digests) == (at_full, at_incremental)
    assert site.events("backup_verified") == [full.file, incremental.file]
    changed = {
        name: rows for name, rows in plant.segment(incremental).items() if name in EBR_TABLES
    }
    assert [row["id"] for row in changed["ebr_exceptions"]] == [site.out_of_limit]
    assert changed["ebr_exceptions"][0]["comment"] == "sealer recalibrated, see QMS-9"
    assert [(row["id"], row["status"]) for row in changed["ebr_deviations"]] == [
        (site.deviation, "closed")
    ]
    (check,) = changed["ebr_checks"]
    assert check["entry_id"] is not None
    assert [row["status"] for row in changed["recipe_versions"]] == ["superseded", "approved"]
    assert {row["number"]: row["status"] for row in changed["packaging_orders"]} == {
        "PO-1": "ready",
        "HAND-1": "ready",
    }
    grown = {"ebr_steps": 1, "ebr_entries": 1, "decoction_sales": 1, "decoction_attachments": 1}
    for name, added in grown.items():
        assert len(changed[name]) == added, name
        assert site.counts()[name] == before[name] + added
    assert changed["decoction_production"] == []


def _as_made_before_the_ebr_tables(plant: Plant, full: BackupManifest) -> None:
    """What an older gateway wrote: its database had no EBR tables, its manifest no marks or
    digests for them."""
    backup = plant.directory / full.file
    with sqlite3.connect(backup) as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name in EBR_TABLES:
                conn.execute(f"DROP TABLE {table.name}")
        conn.execute("UPDATE alembic_version SET version_num = '0007'")
    conn.close()
    manifest = json.loads(plant.path(full).read_text(encoding="utf-8"))
    manifest["sha256"] = file_sha256(backup)
    for field in ("marks", "digests"):
        manifest[field] = {k: v for k, v in manifest[field].items() if k not in EBR_TABLES}
    plant.path(full).write_text(json.dumps(manifest), encoding="utf-8")


def test_a_full_backup_older_than_the_ebr_tables_carries_incrementals_that_fill_them(
    tmp_path: Path,
) -> None:
    engine = make_engine(sqlite_url(tmp_path))
    upgrade(engine)
    plant = Plant(engine, tmp_path / "backups")
    full, _ = plant.backup("full")
    _as_made_before_the_ebr_tables(plant, full)
    plant.backups.verify(plant.path(full))
    plant.site.before()
    plant.site.after()

    incremental, at_incremental = plant.backup("incremental")

    assert set(incremental.marks) > set(full.marks) - set(EBR_TABLES)
    assert plant.restored_digests(incremental) == at_incremental
    target = tmp_path / "restored.db"
    plant.backups.restore_sqlite(plant.path(incremental), target, reason="upgrade drill")
    restored = make_engine(f"sqlite:///{target}")
    with restored.connect() as conn:
        assert table_digests(conn) == at_incremental
    restored.dispose()
    engine.dispose()


def test_an_incremental_that_would_change_a_settled_row_is_refused_on_restore(
    tmp_path: Path,
) -> None:
    engine = make_engine(sqlite_url(tmp_path))
    upgrade(engine)
    plant = Plant(engine, tmp_path / "backups")
    plant.site.before()
    plant.backup("full")
    plant.site.after()
    incremental, _ = plant.backup("incremental")
    settled = next(
        row
        for row in plant.site.exception_rows()
        if row["acknowledged_at"] is not None and row["id"] != plant.site.out_of_limit
    )
    segment = json.loads((plant.directory / incremental.file).read_text(encoding="utf-8"))
    segment["tables"]["ebr_exceptions"].insert(0, {**settled, "comment": "rewritten"})
    (plant.directory / incremental.file).write_text(json.dumps(segment), encoding="utf-8")
    manifest = json.loads(plant.path(incremental).read_text(encoding="utf-8"))
    manifest["sha256"] = file_sha256(plant.directory / incremental.file)
    plant.path(incremental).write_text(json.dumps(manifest), encoding="utf-8")

    with pytest.raises(BackupError, match=r"cannot be applied.*settled") as refused:
        plant.backups.verify(plant.path(incremental))
    assert refused.value.hint
    assert verify_database(engine).ok
    engine.dispose()
