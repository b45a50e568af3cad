"""Verified backups (R-BAK-1) on SQLite and PostgreSQL: backup -> restore gives the identical
chain head, a corrupted backup is detected, incrementals continue the chain, backups and
restores are audited, and nothing inside the retention period is deleted."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from ebr.audit.bundle import verify_database
from ebr.audit.trail import AuditTrail
from ebr.backup import MANIFEST_SUFFIX, BackupError, BackupManifest, Backups, file_sha256
from ebr.db import make_engine
from ebr.schema import upgrade
from tests.conftest import sqlite_url
from tests.ebr.audit.audit_fixtures import Clock, fill, make_trail


@pytest.fixture
def trail(engine: Engine) -> AuditTrail:
    trail = make_trail(engine, every=4, clock=Clock())
    fill(trail, 9)
    return trail


def _manifest(backups: Path, manifest: BackupManifest) -> Path:
    return backups / (manifest.file + MANIFEST_SUFFIX)


def test_backup_and_restore_give_the_identical_chain_head(
    trail: AuditTrail, tmp_path: Path
) -> None:
    backups = Backups(trail, tmp_path / "backups")
    live_head = trail.head()
    manifest = backups.full()
    assert (manifest.head_seq, manifest.head_hash) == live_head
    with backups.restored(_manifest(tmp_path / "backups", manifest)) as restored:
        assert verify_database(restored).ok
        assert AuditTrail(restored).head() == live_head
    events = [e.event for e in trail.entries(object_type="backup")]
    assert events == ["backup_verified", "backup_made"]


def test_a_corrupted_backup_is_detected(trail: AuditTrail, tmp_path: Path) -> None:
    directory = tmp_path / "backups"
    backups = Backups(trail, directory)
    manifest = backups.full()
    path = directory / manifest.file
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(BackupError, match="corrupted"):
        backups.verify(_manifest(directory, manifest))


def test_a_backup_doctored_with_its_manifest_is_detected(tmp_path: Path) -> None:
    """SQLite only: the backup file is edited directly, as someone with access to it could."""
    engine = make_engine(sqlite_url(tmp_path))
    upgrade(engine)
    trail = make_trail(engine, every=4)
    fill(trail, 9)
    directory = tmp_path / "backups"
    backups = Backups(trail, directory)
    manifest = backups.full()
    path = directory / manifest.file
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TRIGGER audit_entries_no_update")
        conn.execute("UPDATE audit_entries SET reason = 'doctored' WHERE seq = 3")
    conn.close()
    doctored = json.loads(_manifest(directory, manifest).read_text())
    doctored["sha256"] = file_sha256(path)
    _manifest(directory, manifest).write_text(json.dumps(doctored))
    with pytest.raises(BackupError, match="does not verify"):
        backups.verify(_manifest(directory, manifest))
    engine.dispose()


def test_incrementals_continue_the_chain(trail: AuditTrail, tmp_path: Path) -> None:
    directory = tmp_path / "backups"
    backups = Backups(trail, directory)
    full = backups.full()
    fill(trail, 6)
    incremental = backups.incremental()
    assert incremental.base_seq == full.head_seq
    assert incremental.head_seq > full.head_seq
    segment_path = directory / incremental.file
    segment = json.loads(segment_path.read_text())
    segment["tables"]["audit_entries"][1]["reason"] = "doctored"
    segment_path.write_text(json.dumps(segment))
    with pytest.raises(BackupError, match="corrupted"):
        backups.verify(_manifest(directory, incremental))
    doctored = json.loads(_manifest(directory, incremental).read_text())
    doctored["sha256"] = file_sha256(segment_path)
    _manifest(directory, incremental).write_text(json.dumps(doctored))
    with pytest.raises(BackupError, match="does not verify"):
        backups.verify(_manifest(directory, incremental))


def test_nothing_inside_the_retention_period_is_deleted(trail: AuditTrail, tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="below five years"):
        Backups(trail, tmp_path / "b", retention=timedelta(days=365))
    backups = Backups(trail, tmp_path / "b")
    backups.full()
    with pytest.raises(BackupError, match="cannot be deleted"):
        backups.prune(older_than=timedelta(days=30))
    assert backups.prune(older_than=timedelta(days=6 * 366)) == []
    assert backups.latest() is not None


def test_backups_are_scheduled_with_apscheduler(trail: AuditTrail, tmp_path: Path) -> None:
    scheduler = BackgroundScheduler()
    Backups(trail, tmp_path / "b").schedule(
        scheduler, full_cron="0 2 * * *", incremental_minutes=30
    )
    assert sorted(job.id for job in scheduler.get_jobs()) == ["backup-full", "backup-incremental"]


def test_a_sqlite_restore_is_verified_and_audited(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path))
    upgrade(engine)
    trail = make_trail(engine, every=4)
    fill(trail, 5)
    directory = tmp_path / "backups"
    backups = Backups(trail, directory)
    manifest = backups.full()
    target = tmp_path / "restored.db"
    backups.restore_sqlite(_manifest(directory, manifest), target, reason="disaster drill")
    with pytest.raises(BackupError, match="never overwrites"):
        backups.restore_sqlite(_manifest(directory, manifest), target, reason="again")
    restored = make_engine(f"sqlite:///{target}")
    assert AuditTrail(restored).head() == (manifest.head_seq, manifest.head_hash)
    restored.dispose()
    (restore,) = trail.entries(event="backup_restored")
    assert restore.reason == "disaster drill"
    engine.dispose()
