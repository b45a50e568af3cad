"""Logical incremental backups (R-BAK-1) on SQLite and PostgreSQL: a full backup plus its
incrementals restores every GMP table exactly as it was at the incremental's snapshot."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from ebr.allocation import CodeAllocator
from ebr.audit.bundle import verify_database
from ebr.audit.trail import AuditTrail
from ebr.backup import MANIFEST_SUFFIX, BackupError, BackupManifest, Backups, file_sha256
from ebr.backup_incremental import high_water_marks, snapshot_connection, table_digests
from ebr.code_states import CodeStates
from ebr.db import make_engine
from ebr.imports import CodeImporter
from ebr.schema import upgrade
from serialization.states import CodeState
from tests.conftest import sqlite_url
from tests.ebr.audit.audit_fixtures import Clock, make_trail
from tests.ebr.fixtures_master import install_master_data, open_batch

NOW = "2026-11-22 09:00:00+00:00"


class Plant:
    """A store with master data, imported codes and a batch, and the backups of it."""

    def __init__(self, engine: Engine, directory: Path) -> None:
        self.engine = engine
        self.clock = Clock()
        self.trail = make_trail(engine, every=4, clock=self.clock)
        install_master_data(engine)
        CodeImporter(engine).import_bytes("para.csv", b"product,serial\npara,P1\npara,P2\n")
        self.amox = open_batch(engine, "amox")
        self.allocator = CodeAllocator(engine, audit=self.trail)
        self.states = CodeStates(engine, audit=self.trail)
        self.first = [c.key for c in self.allocator.allocate("line-1", self.amox, 6)]
        self.directory = directory
        self.rounds = 0
        self.backups = Backups(self.trail, directory)

    def live(self) -> dict[str, list[Any]]:
        with self.engine.connect() as conn:
            return table_digests(conn)

    def path(self, manifest: BackupManifest) -> Path:
        return self.directory / (manifest.file + MANIFEST_SUFFIX)

    def backup(self, kind: str) -> tuple[BackupManifest, dict[str, list[Any]]]:
        self.clock.advance(timedelta(minutes=5))
        before = self.live()
        manifest = self.backups.full() if kind == "full" else self.backups.incremental()
        return manifest, before

    def restored_digests(self, manifest: BackupManifest) -> dict[str, list[Any]]:
        with self.backups.restored(self.path(manifest)) as scratch:
            assert verify_database(scratch).ok
            with scratch.connect() as conn:
                return table_digests(conn)

    def change_records(self, lot: str) -> None:
        """Allocate, move code states, open a batch, change a product, its levels and a user."""
        marked = self.first[self.rounds * 2 : self.rounds * 2 + 2]
        self.rounds += 1
        self.states.mark(marked, CodeState.ENCODED, reason=f"printed {lot}")
        self.allocator.allocate("line-1", self.amox, 3)
        para = open_batch(self.engine, "para", lot=lot, line="line-2")
        self.allocator.allocate("line-2", para, 1)
        with self.engine.begin() as conn:
            conn.execute(text("UPDATE products SET name = :name WHERE id = 'amox'"), {"name": lot})
            conn.execute(
                text("DELETE FROM product_levels WHERE product_id = 'amox' AND level = 'case'")
            )
            conn.execute(
                text(
                    "INSERT INTO users (username, full_name, role, password_hash, failed_attempts,"
                    " locked, active, must_change_password, password_changed_at, created_at)"
                    " VALUES (:u, 'Q A', 'qa', 'x', 0, false, true, true, :t, :t)"
                ),
                {"u": f"qa-{lot}", "t": self.clock()},
            )


@pytest.fixture
def plant(engine: Engine, tmp_path: Path) -> Plant:
    return Plant(engine, tmp_path / "backups")


def test_full_plus_incremental_restores_every_table(plant: Plant) -> None:
    full, at_full = plant.backup("full")
    assert full.digests == at_full
    assert full.marks["codes"] == 8
    plant.change_records("L2")
    incremental, at_incremental = plant.backup("incremental")
    assert incremental.base_file == full.file
    assert incremental.digests == at_incremental
    assert plant.restored_digests(incremental) == at_incremental
    assert plant.restored_digests(full) == at_full
    with plant.backups.restored(plant.path(incremental)) as scratch, scratch.begin() as conn:
        new_id = conn.execute(
            text(
                "INSERT INTO codes (key, pool_id, serial, state) "
                "SELECT 'fresh', pool_id, 'fresh', 0 FROM codes LIMIT 1 RETURNING id"
            )
        ).scalar_one()
        assert new_id == incremental.marks["codes"] + 1
    segment = json.loads((plant.directory / incremental.file).read_text())
    codes = segment["tables"]["codes"]
    assert len(codes) == 2 + 3 + 1
    assert {c["state"] for c in codes} == {int(CodeState.ENCODED), int(CodeState.ALLOCATED)}


def test_two_incrementals_in_a_row(plant: Plant) -> None:
    plant.backup("full")
    plant.change_records("L2")
    first, at_first = plant.backup("incremental")
    plant.change_records("L3")
    second, at_second = plant.backup("incremental")
    assert second.base_file == first.file
    assert second.base_seq == first.head_seq
    assert first.digests == at_first
    assert plant.restored_digests(second) == at_second


def test_a_tampered_incremental_is_detected(plant: Plant) -> None:
    plant.backup("full")
    plant.change_records("L2")
    incremental, _ = plant.backup("incremental")
    path = plant.directory / incremental.file
    segment = json.loads(path.read_text())
    segment["tables"]["codes"][0]["state"] = int(CodeState.COMMISSIONED)
    path.write_text(json.dumps(segment))
    with pytest.raises(BackupError, match="corrupted"):
        plant.backups.verify(plant.path(incremental))
    doctored = json.loads(plant.path(incremental).read_text())
    doctored["sha256"] = file_sha256(path)
    plant.path(incremental).write_text(json.dumps(doctored))
    with pytest.raises(BackupError, match="codes differ from the live database"):
        plant.backups.verify(plant.path(incremental))


def test_an_incremental_whose_base_is_missing_is_refused(plant: Plant) -> None:
    plant.backup("full")
    plant.change_records("L2")
    first, _ = plant.backup("incremental")
    plant.change_records("L3")
    second, _ = plant.backup("incremental")
    plant.path(first).unlink()
    with pytest.raises(BackupError, match=f"{first.file} that {second.file} continues is missing"):
        plant.backups.verify(plant.path(second))
    with pytest.raises(BackupError, match="is missing"), plant.backups.restored(plant.path(second)):
        pass


def test_a_sqlite_restore_applies_the_incrementals(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path))
    upgrade(engine)
    plant = Plant(engine, tmp_path / "backups")
    plant.backup("full")
    plant.change_records("L2")
    incremental, at_incremental = plant.backup("incremental")
    target = tmp_path / "restored.db"
    plant.backups.restore_sqlite(plant.path(incremental), target, reason="disaster drill")
    restored = make_engine(f"sqlite:///{target}")
    with restored.connect() as conn:
        assert table_digests(conn) == at_incremental
    assert AuditTrail(restored).head() == (incremental.head_seq, incremental.head_hash)
    restored.dispose()
    engine.dispose()


def test_the_backup_snapshot_does_not_hold_allocation_back(plant: Plant) -> None:
    """Allocation commits while an incremental's snapshot is open; the snapshot does not move."""
    with snapshot_connection(plant.engine) as conn:
        before = high_water_marks(conn), table_digests(conn)
        plant.allocator.allocate("line-1", plant.amox, 2)
        assert (high_water_marks(conn), table_digests(conn)) == before
    with plant.engine.connect() as conn:
        assert high_water_marks(conn)["codes"] == before[0]["codes"] + 2
