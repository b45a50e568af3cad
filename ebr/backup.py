"""Verified backups (R-BAK-1, R-REC-1).

- Full backups: SQLite's online backup API; `pg_dump` (custom format) for PostgreSQL, taken in
  the same snapshot as the chain head recorded with it.
- Incremental backups: every row added or changed since the previous backup, GMP records and
  audit evidence alike (`ebr.backup_incremental`), as a JSON segment read in one snapshot; its
  audit entries must link to that backup's chain head. Restore = the full backup, migrated to
  the current schema (one made before an upgrade lacks the newer tables the incrementals fill),
  then each incremental in order, applied as the tables' triggers allow.
- Every manifest records each table's high-water mark and digest (row count, SHA-256 of its
  canonical rows) taken in the backup's snapshot.
- Every backup is verified when made, by restoring it (with the chain of backups it continues)
  to a scratch location (a scratch file; a scratch PostgreSQL database), verifying the whole
  audit chain there, and comparing the chain head and every table digest with the recorded
  ones; the head must still be in the live chain. The file's SHA-256 is in its manifest, so a
  corrupted backup is found before it is restored.
- Backups, verifications and restores are audited; failures raise an alarm.
- Nothing younger than the retention period (five years by default) is deleted: `prune` keeps
  it, and the audit tables refuse deletes in the database itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from ebr.audit.bundle import verify_database
from ebr.audit.chain import GENESIS, utc_text
from ebr.audit.models import AuditEntry
from ebr.audit.trail import AuditEvent, AuditTrail
from ebr.audit.verifier import verify_bundle
from ebr.backup_incremental import (
    apply_rows,
    changed_rows,
    differing_tables,
    high_water_marks,
    snapshot_connection,
    table_digests,
)
from ebr.db import make_engine
from ebr.errors import StoreError
from ebr.schema import upgrade

DEFAULT_RETENTION = timedelta(days=5 * 366)
SEGMENT_FORMAT = "tracegate-incremental/2"
MANIFEST_SUFFIX = ".manifest.json"


class BackupError(StoreError):
    pass


@dataclass(frozen=True, slots=True)
class BackupManifest:
    kind: str
    """full or incremental"""
    database: str
    file: str
    sha256: str
    head_seq: int
    head_hash: str
    created_at: str
    base_seq: int = 0
    base_hash: str = GENESIS
    """For an incremental: the chain head of the previous backup it continues."""
    base_file: str = ""
    """For an incremental: the file of the backup it continues (full or incremental)."""
    marks: dict[str, int] = field(default_factory=dict)
    """Each growing table's highest primary key at the backup's snapshot."""
    digests: dict[str, list[Any]] = field(default_factory=dict)
    """Each table's [row count, SHA-256 of its canonical rows] at the backup's snapshot."""

    @classmethod
    def load(cls, path: Path) -> BackupManifest:
        try:
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as error:
            raise BackupError(f"{path} is not a readable backup manifest: {error}") from error


Alarm = Callable[[str, dict[str, Any]], None]


def _no_alarm(_kind: str, _details: dict[str, Any]) -> None:
    return None


class Backups:
    def __init__(
        self,
        trail: AuditTrail,
        directory: Path,
        *,
        retention: timedelta = DEFAULT_RETENTION,
        on_alarm: Alarm = _no_alarm,
    ) -> None:
        if retention < DEFAULT_RETENTION - timedelta(days=5):
            raise BackupError(
                f"a retention of {retention.days} days is below five years",
                hint="GMP records and their backups are kept at least five years (R-REC-1)",
            )
        self._trail = trail
        self._engine: Engine = trail.engine
        self._directory = directory
        self._retention = retention
        self._on_alarm = on_alarm
        directory.mkdir(parents=True, exist_ok=True)

    # --- making backups -------------------------------------------------------------------

    def full(self) -> BackupManifest:
        stamp = self._stamp()
        dialect = self._engine.dialect.name
        target = self._directory / f"full-{stamp}.{'sqlite' if dialect == 'sqlite' else 'pgdump'}"
        try:
            head, state = (
                self._sqlite_backup(target) if dialect == "sqlite" else self._pg_dump(target)
            )
            manifest = self._write_manifest("full", target, head, state)
            self.verify(self._manifest_path(target))
        except BackupError as error:
            self._failed("full", error)
            raise
        self._audit("backup_made", target.name, asdict(manifest))
        return manifest

    def incremental(self) -> BackupManifest:
        """Every row added or changed since the latest backup, read in one snapshot."""
        previous = self.latest()
        if previous is None:
            raise BackupError("there is no backup to continue", hint="make a full backup first")
        target = self._unique(f"incr-{self._stamp()}", ".json")
        try:
            with snapshot_connection(self._engine) as conn:
                rows = changed_rows(conn, previous.marks)
                state = _State(high_water_marks(conn), table_digests(conn))
        except StoreError as error:
            failure = BackupError(f"incremental backup failed: {error.message}", hint=error.hint)
            self._failed("incremental", failure)
            raise failure from error
        entries = rows["audit_entries"]
        head = (previous.head_seq, previous.head_hash)
        if entries:
            head = (int(entries[-1]["seq"]), str(entries[-1]["hash"]))
        segment = {"format": SEGMENT_FORMAT, "tables": rows}
        _write_atomically(target, json.dumps(segment, ensure_ascii=False).encode("utf-8"))
        manifest = self._write_manifest("incremental", target, head, state, previous)
        try:
            self.verify(self._manifest_path(target))
        except BackupError as error:
            self._failed("incremental", error)
            raise
        self._audit("backup_made", target.name, asdict(manifest))
        return manifest

    def latest(self) -> BackupManifest | None:
        manifests = sorted(self._directory.glob(f"*{MANIFEST_SUFFIX}"))
        loaded = [BackupManifest.load(path) for path in manifests]
        return max(loaded, key=lambda m: (m.head_seq, m.created_at), default=None)

    # --- verification and restore ---------------------------------------------------------

    def verify(self, manifest_path: Path) -> BackupManifest:
        """Checksum, restore (with the backups it continues) to a scratch location, verify the
        chain there, compare the head and every table digest."""
        manifest, backup = _checked(manifest_path)
        if manifest.kind == "incremental":
            self._verify_segment(backup, manifest)
        with self.restored(manifest_path) as scratch:
            report = verify_database(scratch)
            if not report.ok:
                raise BackupError(
                    f"the restored copy of {backup.name} does not verify: "
                    + "; ".join(report.lines()[1:-1])
                )
            head = _head(scratch)
            if manifest.digests:
                with scratch.connect() as conn:
                    differing = differing_tables(manifest.digests, table_digests(conn))
                if differing:
                    raise BackupError(
                        f"backup {backup.name}: the restored tables {', '.join(differing)} "
                        "differ from the live database at the backup's moment",
                        hint="do not rely on this backup; make a new full backup",
                    )
        if head != (manifest.head_seq, manifest.head_hash):
            raise BackupError(
                f"backup {backup.name}: restored chain head #{head[0]} differs from the "
                f"recorded head #{manifest.head_seq}"
            )
        self._check_in_live_chain(manifest)
        self._audit("backup_verified", backup.name, {"head_seq": manifest.head_seq})
        return manifest

    def backup_chain(self, manifest_path: Path) -> list[tuple[Path, BackupManifest]]:
        """The full backup and the incrementals leading to `manifest_path`, oldest first, each
        file present and matching its checksum."""
        chain: list[tuple[Path, BackupManifest]] = []
        path = manifest_path
        while True:
            if not path.exists():
                wanted = chain[-1][1].file if chain else manifest_path.name
                raise BackupError(
                    f"the backup {path.name.removesuffix(MANIFEST_SUFFIX)} that {wanted} "
                    "continues is missing",
                    hint="an incremental restores only on top of every backup before it; "
                    "make a new full backup",
                )
            manifest, _backup = _checked(path)
            chain.append((path, manifest))
            if manifest.kind == "full":
                return chain[::-1]
            if not manifest.base_file or len(chain) > 100_000:
                raise BackupError(
                    f"incremental {manifest.file} does not name the backup it continues"
                )
            path = path.parent / (manifest.base_file + MANIFEST_SUFFIX)

    @contextmanager
    def restored(self, manifest_path: Path) -> Iterator[Engine]:
        """A backup restored to a scratch location (its full backup, then every incremental up
        to it), removed afterwards."""
        chain = self.backup_chain(manifest_path)
        full_path, full = chain[0]
        backup = full_path.parent / full.file
        if full.database == "sqlite":
            with tempfile.TemporaryDirectory(prefix="tracegate-restore-") as scratch:
                copy = Path(scratch) / "restored.db"
                shutil.copyfile(backup, copy)
                engine = make_engine(f"sqlite:///{copy}")
                try:
                    _apply_incrementals(engine, chain[1:])
                    yield engine
                finally:
                    engine.dispose()
            return
        with self._pg_scratch_database(backup) as engine:
            _apply_incrementals(engine, chain[1:])
            yield engine

    def restore_sqlite(self, manifest_path: Path, target: Path, *, reason: str) -> None:
        """Put a verified SQLite backup (with the incrementals up to it) in place as `target`,
        which must not exist."""
        manifest = self.verify(manifest_path)
        if target.exists():
            raise BackupError(
                f"{target} exists; a restore never overwrites a database",
                hint="restore to a new path and switch the configuration to it",
            )
        chain = self.backup_chain(manifest_path)
        temporary = target.with_name(target.name + ".restoring")
        shutil.copyfile(chain[0][0].parent / chain[0][1].file, temporary)
        engine = make_engine(f"sqlite:///{temporary}")
        try:
            _apply_incrementals(engine, chain[1:])
        finally:
            engine.dispose()
        os.replace(temporary, target)
        self._audit(
            "backup_restored",
            manifest.file,
            {"target": str(target)},
            action="modify",
            reason=reason,
        )

    # --- retention ------------------------------------------------------------------------

    def prune(self, *, older_than: timedelta) -> list[str]:
        """Remove backups older than `older_than`, never one inside the retention period."""
        if older_than < self._retention:
            raise BackupError(
                f"backups younger than the retention period ({self._retention.days} days) "
                "cannot be deleted",
                hint="records and their backups are kept for the whole retention period",
            )
        limit = utc_text(self._trail.now() - older_than)
        removed = []
        for path in sorted(self._directory.glob(f"*{MANIFEST_SUFFIX}")):
            manifest = BackupManifest.load(path)
            if manifest.created_at < limit:
                (path.parent / manifest.file).unlink(missing_ok=True)
                path.unlink()
                removed.append(manifest.file)
        if removed:
            self._audit(
                "backups_pruned",
                "backups",
                {"files": removed},
                action="delete",
                reason=f"older than {older_than.days} days",
            )
        return removed

    def schedule(
        self, scheduler: Any, *, full_cron: str = "0 2 * * *", incremental_minutes: int = 60
    ) -> None:
        """Register the jobs on an APScheduler 3 scheduler (full nightly, incrementals)."""
        from apscheduler.triggers.cron import CronTrigger  # noqa: PLC0415
        from apscheduler.triggers.interval import IntervalTrigger  # noqa: PLC0415

        scheduler.add_job(
            self.full,
            CronTrigger.from_crontab(full_cron, timezone=UTC),
            id="backup-full",
            replace_existing=True,
            max_instances=1,
            coalesce=True,
        )
        scheduler.add_job(
            self._incremental_job,
            IntervalTrigger(minutes=incremental_minutes),
            id="backup-incremental",
            replace_existing=True,
            max_instances=1,
            coalesce=True,
        )

    def incremental_or_full(self) -> BackupManifest:
        """An incremental backup, or a full one when there is no backup it could continue
        (none yet, or only one made before incrementals recorded their high-water marks)."""
        latest = self.latest()
        if latest is None or not latest.marks:
            return self.full()
        return self.incremental()

    def _incremental_job(self) -> None:
        self.incremental_or_full()

    # --- internals ------------------------------------------------------------------------

    def _sqlite_backup(self, target: Path) -> tuple[tuple[int, str], _State]:
        source_path = self._engine.url.database
        if not source_path:
            raise BackupError("an in-memory SQLite database cannot be backed up")
        temporary = target.with_name(target.name + ".tmp")
        source = sqlite3.connect(source_path)
        destination = sqlite3.connect(temporary)
        try:
            source.backup(destination)
            destination.execute("PRAGMA journal_mode=DELETE")
            row = destination.execute(
                "SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1"
            ).fetchone()
        finally:
            destination.close()
            source.close()
        reader = create_engine(f"sqlite:///{temporary}", poolclass=NullPool)
        try:
            with reader.connect() as conn:
                state = _State(high_water_marks(conn), table_digests(conn))
        finally:
            reader.dispose()
        os.replace(temporary, target)
        return ((0, GENESIS) if row is None else (int(row[0]), str(row[1]))), state

    def _pg_dump(self, target: Path) -> tuple[tuple[int, str], _State]:
        url = self._engine.url
        schema = _pg_schema(url)
        with self._engine.connect() as conn:
            conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            head = _head_in(conn)
            temporary = target.with_name(target.name + ".tmp")
            _run(
                [
                    "pg_dump",
                    *_pg_connection_args(url),
                    "--format=custom",
                    "--no-owner",
                    f"--schema={schema}",
                    f"--snapshot={snapshot}",
                    f"--file={temporary}",
                ],
                url,
            )
            state = _State(high_water_marks(conn), table_digests(conn))
            conn.rollback()
        os.replace(temporary, target)
        return head, state

    @contextmanager
    def _pg_scratch_database(self, backup: Path) -> Iterator[Engine]:
        url = self._engine.url
        name = f"tracegate_restore_{uuid.uuid4().hex[:12]}"
        admin = self._engine.execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        scratch_url = url.set(database=name)
        try:
            if _pg_schema(url) == "public":
                _drop_empty_public_schema(scratch_url)
            _run(["pg_restore", *_pg_connection_args(scratch_url), "--no-owner", str(backup)], url)
            engine = make_engine(scratch_url.render_as_string(hide_password=False))
            try:
                yield engine
            finally:
                engine.dispose()
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def _verify_segment(self, backup: Path, manifest: BackupManifest) -> None:
        segment = _bundle_view(_load_segment(backup))
        entries = segment["entries"]
        if entries and (
            entries[0]["seq"] != manifest.base_seq + 1
            or entries[0]["prev_hash"] != manifest.base_hash
        ):
            raise BackupError(
                f"incremental {backup.name} does not continue the chain head "
                f"#{manifest.base_seq} of the backup before it"
            )
        report = verify_bundle(segment, continues=(manifest.base_seq, manifest.base_hash))
        if not report.ok:
            raise BackupError(
                f"incremental {backup.name} does not verify: " + "; ".join(report.lines()[1:-1])
            )

    def _check_in_live_chain(self, manifest: BackupManifest) -> None:
        if manifest.head_seq == 0:
            return
        with self._engine.connect() as conn:
            live = conn.execute(
                select(AuditEntry.hash).where(AuditEntry.seq == manifest.head_seq)
            ).scalar_one_or_none()
        if live != manifest.head_hash:
            raise BackupError(
                f"the live chain's entry #{manifest.head_seq} differs from the backup's head: "
                "the live trail or the backup was altered",
                hint="run `tracegate audit verify` on both",
            )

    def _write_manifest(
        self,
        kind: str,
        target: Path,
        head: tuple[int, str],
        state: _State,
        base: BackupManifest | None = None,
    ) -> BackupManifest:
        manifest = BackupManifest(
            kind=kind,
            database=self._engine.dialect.name,
            file=target.name,
            sha256=file_sha256(target),
            head_seq=head[0],
            head_hash=head[1],
            created_at=utc_text(self._trail.now()),
            base_seq=0 if base is None else base.head_seq,
            base_hash=GENESIS if base is None else base.head_hash,
            base_file="" if base is None else base.file,
            marks=state.marks,
            digests=state.digests,
        )
        _write_atomically(
            self._manifest_path(target), json.dumps(asdict(manifest), indent=1).encode("utf-8")
        )
        return manifest

    def _manifest_path(self, target: Path) -> Path:
        return target.with_name(target.name + MANIFEST_SUFFIX)

    def _unique(self, stem: str, suffix: str) -> Path:
        target = self._directory / f"{stem}{suffix}"
        counter = 1
        while target.exists():
            target = self._directory / f"{stem}-{counter}{suffix}"
            counter += 1
        return target

    def _stamp(self) -> str:
        return self._trail.now().astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")

    def _failed(self, kind: str, error: BackupError) -> None:
        details = {"kind": kind, "problem": error.message}
        self._on_alarm("backup_failed", details)
        self._audit("backup_failed", kind, details)

    def _audit(
        self,
        event: str,
        object_id: str,
        details: dict[str, Any],
        *,
        action: str = "system",
        reason: str | None = None,
    ) -> None:
        self._trail.append(
            [AuditEvent(event, "backup", object_id, action=action, new=details, reason=reason)]
        )


@dataclass(frozen=True, slots=True)
class _State:
    marks: dict[str, int]
    digests: dict[str, list[Any]]


def _load_segment(path: Path) -> dict[str, Any]:
    try:
        segment = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BackupError(f"incremental {path.name} is not readable JSON: {error}") from error
    if not isinstance(segment, dict) or segment.get("format") != SEGMENT_FORMAT:
        raise BackupError(
            f"incremental {path.name} is not a {SEGMENT_FORMAT} segment",
            hint="it was made by an older gateway; restore from a full backup",
        )
    return segment


def _bundle_view(segment: dict[str, Any]) -> dict[str, Any]:
    """The segment's audit evidence in the shape the offline verifier reads."""
    rows = segment["tables"]
    return {
        "entries": rows.get("audit_entries", []),
        "checkpoints": rows.get("audit_checkpoints", []),
        "public_keys": rows.get("audit_keys", []),
        "signatures": rows.get("e_signatures", []),
    }


def _apply_incrementals(engine: Engine, chain: list[tuple[Path, BackupManifest]]) -> None:
    """Migrate the restored full backup to the current schema, then apply each incremental."""
    try:
        upgrade(engine)
    except SQLAlchemyError as error:
        problem = str(error).splitlines()[0]
        raise BackupError(
            f"the restored full backup cannot be migrated to the current schema: {problem}",
            hint="restore it with the gateway version that made it, then upgrade that copy",
        ) from error
    for path, manifest in chain:
        segment = _load_segment(path.parent / manifest.file)
        try:
            with engine.begin() as conn:
                apply_rows(conn, segment["tables"])
        except StoreError as error:
            raise BackupError(
                f"incremental {manifest.file} cannot be applied: {error.message}", hint=error.hint
            ) from error
        except SQLAlchemyError as error:
            raise BackupError(
                f"incremental {manifest.file} cannot be applied: {error}".splitlines()[0],
                hint="the backup chain is inconsistent; restore from a full backup",
            ) from error


def _head(engine: Engine) -> tuple[int, str]:
    with engine.connect() as conn:
        return _head_in(conn)


def _head_in(conn: Any) -> tuple[int, str]:
    row = conn.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    return (0, GENESIS) if row is None else (int(row.seq), str(row.hash))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


def _pg_schema(url: URL) -> str:
    options = str(url.query.get("options", ""))
    for part in options.split():
        if part.startswith("-csearch_path="):
            return part.split("=", 1)[1].split(",")[0]
    return "public"


def _drop_empty_public_schema(url: URL) -> None:
    """A dump of the `public` schema creates it, and a new database already has it (empty)."""
    scratch = create_engine(url.render_as_string(hide_password=False))
    try:
        with scratch.begin() as conn:
            conn.execute(text("DROP SCHEMA public"))
    finally:
        scratch.dispose()


def _pg_connection_args(url: URL) -> list[str]:
    args = [f"--dbname={url.database}"]
    if url.host:
        args.append(f"--host={url.host}")
    if url.port:
        args.append(f"--port={url.port}")
    if url.username:
        args.append(f"--username={url.username}")
    return [*args, "--no-password"]


def _run(command: list[str], url: URL) -> None:
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    tool = shutil.which(command[0])
    if tool is None:
        raise BackupError(
            f"{command[0]} is not installed", hint="install the PostgreSQL client tools"
        )
    result = subprocess.run(  # noqa: S603 (fixed tool, arguments from our own URL)
        [tool, *command[1:]], capture_output=True, text=True, env=env, check=False, timeout=3600
    )
    if result.returncode != 0:
        raise BackupError(
            f"{command[0]} failed ({result.returncode}): {result.stderr.strip()[:500]}"
        )


def _checked(manifest_path: Path) -> tuple[BackupManifest, Path]:
    """A backup's manifest and file, after checking the file is there and intact."""
    manifest = BackupManifest.load(manifest_path)
    backup = manifest_path.parent / manifest.file
    if not backup.exists():
        raise BackupError(f"backup file {backup} is missing")
    if file_sha256(backup) != manifest.sha256:
        raise BackupError(
            f"backup {backup.name} is corrupted: its SHA-256 differs from the manifest",
            hint="do not restore it; make a new full backup and investigate the storage",
        )
    return manifest, backup
