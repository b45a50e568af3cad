"""`tracegate backup` end to end on a real site: full → incremental → verify → restore gives back
the database as it was at the incremental's moment (SQLite; on PostgreSQL the restore is
refused, and following its fix gives back the full backup's database), a tampered backup or
manifest is refused with `error:` / `fix:` lines and audited (SQLite: the files are checked
the same whatever the database), and every bad input is named without a traceback."""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from ebr.audit.trail import AuditTrail
from ebr.backup import MANIFEST_SUFFIX, file_sha256
from ebr.db import make_engine
from ebr.journal import EventKind
from ebr.models import Base
from ebr.schema import upgrade
from gateway.cli import main
from tests.ebr.journal.journal_fixtures import Line, make_line
from tests.gateway.doctor.doctor_site import write_site

Contents = dict[str, list[tuple[Any, ...]]]


def contents(engine: Engine) -> Contents:
    """Every row of every table in key order; moments as naive UTC (SQLite keeps a
    timestamp's spelling, with or without its offset, and the restore writes it without)."""
    found: Contents = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns))
            found[table.name] = [tuple(_moment(value) for value in row) for row in rows]
    return found


def _moment(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def backup(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["backup", *args])
    out, err = capsys.readouterr()
    return code, out, err


def audited(engine: Engine) -> list[tuple[str, str]]:
    return [(e.event, e.object_id) for e in AuditTrail(engine).entries(object_type="backup")]


def manifests(folder: Path) -> list[dict[str, Any]]:
    loaded = [json.loads(p.read_text()) for p in folder.glob(f"*{MANIFEST_SUFFIX}")]
    return sorted(loaded, key=lambda m: (m["head_seq"], m["created_at"]))


def pg_restore_as_told(live: Engine, dump: Path) -> Contents:
    """Follow the refused restore's fix: a new database without its empty `public` schema,
    `pg_restore --no-owner` into it; its contents."""
    name = f"r_{uuid.uuid4().hex[:12]}"
    admin = live.execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = live.url.set(database=name)
    restored = make_engine(url.render_as_string(hide_password=False))
    try:
        with restored.begin() as conn:
            conn.execute(text("DROP SCHEMA public"))
        args = [f"--dbname={name}", f"--host={url.host}", f"--port={url.port or 5432}"]
        args += [f"--username={url.username}", "--no-password", "--no-owner", "--exit-on-error"]
        subprocess.run(["pg_restore", *args, str(dump)], check=True, timeout=120)
        return contents(restored)
    finally:
        restored.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def line(engine: Engine) -> Line:
    line = make_line(engine)
    line.accept(*line.units[:3])
    return line


def test_full_incremental_verify_restore_round_trip(
    engine: Engine, line: Line, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = write_site(tmp_path, engine)
    folder = tmp_path / "backups"
    folder.mkdir()
    config = ["--config", str(site)]

    at_full = contents(engine)
    code, out, err = backup(capsys, "full", *config)
    assert (code, err) == (0, "")
    assert "made and verified full backup" in out

    line.accept(*line.units[3:6])
    line.ok(line.event(EventKind.UNIT_ISSUED, line.units[6]))
    at_incremental = contents(engine)
    code, out, err = backup(capsys, "incremental", *config)
    assert (code, err) == (0, "")
    assert "made and verified incremental backup" in out
    full, incremental = manifests(folder)
    assert (full["kind"], incremental["kind"]) == ("full", "incremental")
    assert incremental["base_file"] == full["file"]
    assert incremental["head_seq"] > full["head_seq"]

    code, out, _ = backup(capsys, "list", *config)
    assert code == 0
    listed = out.splitlines()[1:]
    assert [row.split()[1] for row in listed] == ["full", "incremental"]
    assert listed[1].endswith(f"[{full['file']}]")

    code, out, err = backup(capsys, "verify", incremental["file"], *config)
    assert (code, err) == (0, "")
    assert f"verified {incremental['file']}" in out
    assert f"restores from 2 file(s) ({full['file']}, {incremental['file']})" in out

    target = tmp_path / "restored" / "tracegate.db"
    target.parent.mkdir()
    restore = ["restore", incremental["file"], "--to", str(target), "--reason", "disk failed"]
    code, out, err = backup(capsys, *restore, *config)
    if engine.dialect.name == "postgresql":
        assert code == 1
        assert not target.exists()
        assert "is a backup of a PostgreSQL database" in err
        assert f"pg_restore --no-owner --dbname=NEW {folder / full['file']}" in err
        assert "the 1 incremental(s) after it are not applied" in err
        assert "Traceback" not in err
        assert pg_restore_as_told(engine, folder / full["file"]) == at_full
    else:
        assert (code, err) == (0, "")
        assert f"to {target}" in out
        assert oct(target.stat().st_mode)[-3:] == "600"
        restored = make_engine(f"sqlite:///{target}")
        try:
            assert contents(restored) == at_incremental
        finally:
            restored.dispose()

    events = audited(engine)
    assert events.count(("backup_made", full["file"])) == 1
    assert events.count(("backup_made", incremental["file"])) == 1
    assert ("backup_verified", incremental["file"]) in events
    if engine.dialect.name == "sqlite":
        assert events[-1] == ("backup_restored", incremental["file"])
        (restored_entry,) = AuditTrail(engine).entries(event="backup_restored")
        assert restored_entry.reason == "disk failed"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_tampered_backup_is_refused_clearly_and_audited(
    engine: Engine, line: Line, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = write_site(tmp_path, engine)
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    config = ["--config", str(site), "--dir", str(folder)]
    assert backup(capsys, "full", *config)[0] == 0
    line.accept(*line.units[3:5])
    assert backup(capsys, "incremental", *config)[0] == 0
    _, incremental = manifests(folder)
    segment_path = folder / incremental["file"]
    manifest_path = folder / (incremental["file"] + MANIFEST_SUFFIX)
    target = tmp_path / "restored.db"

    segment = json.loads(segment_path.read_text())
    segment["tables"]["audit_entries"][0]["reason"] = "covered up"
    segment_path.write_text(json.dumps(segment))
    code, out, err = backup(capsys, "verify", str(manifest_path), *config)
    assert (code, out) == (1, "")
    assert f"error: backup {incremental['file']} is corrupted" in err
    assert "  fix: do not restore it" in err
    assert "Traceback" not in err
    restore = ["restore", str(manifest_path), "--to", str(target), "--reason", "test"]
    code, _, err = backup(capsys, *restore, *config)
    assert code == 1
    assert "is corrupted" in err
    assert not target.exists()

    doctored = json.loads(manifest_path.read_text())
    doctored["sha256"] = file_sha256(segment_path)
    manifest_path.write_text(json.dumps(doctored))
    code, _, err = backup(capsys, "verify", str(manifest_path), *config)
    assert code == 1
    assert f"error: incremental {incremental['file']} does not verify" in err
    assert "  fix: " in err

    manifest_path.write_text("{not json")
    code, _, err = backup(capsys, "verify", str(manifest_path), *config)
    assert code == 1
    assert "is not a readable backup manifest" in err
    assert "  fix: do not restore from this backup" in err
    code, out, _ = backup(capsys, "list", *config)
    assert code == 1
    assert "UNREADABLE MANIFEST" in out
    assert f"NO MANIFEST: {incremental['file']}" in out

    manifest_path.unlink()
    code, _, err = backup(capsys, "verify", incremental["file"], *config)
    assert code == 1
    assert f"error: there is no backup manifest {incremental['file']}" in err
    assert "`tracegate backup list" in err

    failures = list(AuditTrail(engine).entries(event="backup_failed"))
    assert [(e.object_id, json.loads(e.new_value or "{}")["kind"]) for e in failures] == [
        ("verify", "verify"),
        ("restore", "restore"),
        ("verify", "verify"),
        ("verify", "verify"),
    ]
    assert "corrupted" in json.loads(failures[0].new_value or "{}")["problem"]


def test_bad_input_gets_a_clear_error_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "tracegate.db"
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    make_line(engine)
    site = write_site(tmp_path, engine)
    config = ["--config", str(site)]

    code, _, err = backup(capsys, "full", *config)
    assert code == 1
    assert f"error: the backup folder {tmp_path / 'backups'} does not exist" in err
    assert "  fix: mount the backup disk, or create the folder" in err
    assert not (tmp_path / "backups").exists()

    (tmp_path / "backups").mkdir()
    code, _, err = backup(capsys, "incremental", *config)
    assert code == 1
    assert "error: there is no backup to continue" in err
    assert "  fix: make a full backup first" in err

    assert backup(capsys, "full", *config)[0] == 0
    (full,) = manifests(tmp_path / "backups")
    before = audited(engine)

    existing = tmp_path / "existing.db"
    existing.write_bytes(b"precious")
    code, _, err = backup(
        capsys, "restore", full["file"], "--to", str(existing), "--reason", "x", *config
    )
    assert code == 1
    assert f"error: {existing} exists; a restore never overwrites a database" in err
    assert existing.read_bytes() == b"precious"
    code, _, err = backup(
        capsys,
        "restore",
        full["file"],
        "--to",
        str(tmp_path / "new.db"),
        "--reason",
        " ",
        *config,
    )
    assert code == 1
    assert "error: --reason is empty" in err
    assert audited(engine) == before, "a refused restore restores and records nothing"

    code, _, err = backup(capsys, "prune", "--older-than-days", "30", *config)
    assert code == 1
    assert "cannot be deleted" in err
    assert "  fix: records and their backups are kept for the whole retention period" in err
    assert (tmp_path / "backups" / full["file"]).exists()
    assert audited(engine)[-1] == ("backup_failed", "prune")
    code, out, _ = backup(capsys, "prune", "--older-than-days", "4000", *config)
    assert (code, out) == (0, "no backup is older than 4000 days\n")

    database_gone = tmp_path / "other" / "site.yaml"
    database_gone.parent.mkdir()
    write_site(database_gone.parent, f"sqlite:///{tmp_path / 'absent.db'}")
    code, _, err = backup(capsys, "list", "--config", str(database_gone), "--dir", str(tmp_path))
    assert code == 1
    assert "does not exist" in err
    assert not (tmp_path / "absent.db").exists(), "the command never creates a database"
    engine.dispose()
