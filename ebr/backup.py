"""Verified backups (R-BAK-1, R-REC-1).

- Full backups: SQLite's online backup API; `pg_dump` (custom format) for PostgreSQL, taken in
  the same snapshot as the chain head recorded with it.
- Incremental backups: the audit evidence (entries, checkpoints, keys, e-signatures) appended
  since the previous backup, as a JSON segment that must link to that backup's chain head.
- Every backup is verified when made, by restoring it to a scratch location (a scratch file; a
  scratch PostgreSQL database), verifying the whole chain there, and comparing chain heads: the
  restored head must equal the recorded one and still be in the live chain. The file's SHA-256
  is in its manifest, so a corrupted backup is found before it is restored.
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
from dataclasses import asdict, dataclass
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.engine import URL

from ebr.audit.bundle import one_snapshot, verify_database
from ebr.audit.chain import GENESIS, utc_text
from ebr.audit.models import AuditCheckpoint, AuditEntry, AuditKey, SignatureRow
from ebr.audit.trail import AuditEvent, AuditTrail
from ebr.audit.verifier import verify_bundle
from ebr.db import make_engine
from ebr.errors import StoreError

DEFAULT_RETENTION = timedelta(days=5 * 366)
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
            head = self._sqlite_backup(target) if dialect == "sqlite" else self._pg_dump(target)
            manifest = self._write_manifest("full", target, head, (0, GENESIS))
            self.verify(self._manifest_path(target))
        except BackupError as error:
            self._failed("full", error)
            raise
        self._audit("backup_made", target.name, asdict(manifest))
        return manifest

    def incremental(self) -> BackupManifest:
        """The audit evidence since the latest backup, linked to that backup's chain head."""
        previous = self.latest()
        if previous is None:
            raise BackupError("there is no backup to continue", hint="make a full backup first")
        target = self._directory / f"incr-{self._stamp()}.json"
        with self._engine.connect() as conn:
            one_snapshot(conn)
            segment = {
                "entries": _rows(conn, AuditEntry, AuditEntry.seq > previous.head_seq),
                "checkpoints": _rows(
                    conn, AuditCheckpoint, AuditCheckpoint.entry_seq > previous.head_seq
                ),
                "public_keys": _rows(conn, AuditKey, None),
                "signatures": _rows(conn, SignatureRow, SignatureRow.audit_seq > previous.head_seq),
            }
        entries = segment["entries"]
        head = (previous.head_seq, previous.head_hash)
        if entries:
            head = (int(entries[-1]["seq"]), str(entries[-1]["hash"]))
        _write_atomically(target, json.dumps(segment, ensure_ascii=False).encode("utf-8"))
        manifest = self._write_manifest(
            "incremental", target, head, (previous.head_seq, previous.head_hash)
        )
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
        """Checksum, restore to a scratch location, verify the chain there, compare heads."""
        manifest = BackupManifest.load(manifest_path)
        backup = manifest_path.parent / manifest.file
        if not backup.exists():
            raise BackupError(f"backup file {backup} is missing")
        if file_sha256(backup) != manifest.sha256:
            raise BackupError(
                f"backup {backup.name} is corrupted: its SHA-256 differs from the manifest",
                hint="do not restore it; make a new full backup and investigate the storage",
            )
        if manifest.kind == "incremental":
            head = self._verify_segment(backup, manifest)
        else:
            with self.restored(manifest_path) as scratch:
                report = verify_database(scratch)
                if not report.ok:
                    raise BackupError(
                        f"the restored copy of {backup.name} does not verify: "
                        + "; ".join(report.lines()[1:-1])
                    )
                head = _head(scratch)
        if head != (manifest.head_seq, manifest.head_hash):
            raise BackupError(
                f"backup {backup.name}: restored chain head #{head[0]} differs from the "
                f"recorded head #{manifest.head_seq}"
            )
        self._check_in_live_chain(manifest)
        self._audit("backup_verified", backup.name, {"head_seq": manifest.head_seq})
        return manifest

    @contextmanager
    def restored(self, manifest_path: Path) -> Iterator[Engine]:
        """A full backup restored to a scratch location, removed afterwards."""
        manifest = BackupManifest.load(manifest_path)
        backup = manifest_path.parent / manifest.file
        if manifest.kind != "full":
            raise BackupError(f"{backup.name} is an incremental; restore its full backup first")
        if manifest.database == "sqlite":
            with tempfile.TemporaryDirectory(prefix="tracegate-restore-") as scratch:
                copy = Path(scratch) / "restored.db"
                shutil.copyfile(backup, copy)
                engine = make_engine(f"sqlite:///{copy}")
                try:
                    yield engine
                finally:
                    engine.dispose()
            return
        with self._pg_scratch_database(backup) as engine:
            yield engine

    def restore_sqlite(self, manifest_path: Path, target: Path, *, reason: str) -> None:
        """Put a verified SQLite backup in place as `target` (which must not exist)."""
        manifest = self.verify(manifest_path)
        if target.exists():
            raise BackupError(
                f"{target} exists; a restore never overwrites a database",
                hint="restore to a new path and switch the configuration to it",
            )
        shutil.copyfile(manifest_path.parent / manifest.file, target)
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

    def _incremental_job(self) -> None:
        if self.latest() is None:
            self.full()
        else:
            self.incremental()

    # --- internals ------------------------------------------------------------------------

    def _sqlite_backup(self, target: Path) -> tuple[int, str]:
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
        os.replace(temporary, target)
        return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))

    def _pg_dump(self, target: Path) -> tuple[int, str]:
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
            conn.rollback()
        os.replace(temporary, target)
        return head

    @contextmanager
    def _pg_scratch_database(self, backup: Path) -> Iterator[Engine]:
        url = self._engine.url
        name = f"tracegate_restore_{uuid.uuid4().hex[:12]}"
        admin = self._engine.execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        scratch_url = url.set(database=name)
        try:
            _run(["pg_restore", *_pg_connection_args(scratch_url), "--no-owner", str(backup)], url)
            engine = make_engine(scratch_url.render_as_string(hide_password=False))
            try:
                yield engine
            finally:
                engine.dispose()
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def _verify_segment(self, backup: Path, manifest: BackupManifest) -> tuple[int, str]:
        segment = json.loads(backup.read_text(encoding="utf-8"))
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
        if not entries:
            return manifest.base_seq, manifest.base_hash
        return int(entries[-1]["seq"]), str(entries[-1]["hash"])

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
        self, kind: str, target: Path, head: tuple[int, str], base: tuple[int, str]
    ) -> BackupManifest:
        manifest = BackupManifest(
            kind=kind,
            database=self._engine.dialect.name,
            file=target.name,
            sha256=file_sha256(target),
            head_seq=head[0],
            head_hash=head[1],
            created_at=utc_text(self._trail.now()),
            base_seq=base[0],
            base_hash=base[1],
        )
        _write_atomically(
            self._manifest_path(target), json.dumps(asdict(manifest), indent=1).encode("utf-8")
        )
        return manifest

    def _manifest_path(self, target: Path) -> Path:
        return target.with_name(target.name + MANIFEST_SUFFIX)

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


def _rows(conn: Any, model: type, condition: Any) -> list[dict[str, Any]]:
    table = model.__table__  # type: ignore[attr-defined]
    query = select(table)
    if condition is not None:
        query = query.where(condition)
    query = query.order_by(*table.primary_key.columns)
    return [dict(row) for row in conn.execute(query).mappings()]


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
