"""`tracegate backup full | incremental | verify | list | restore | prune --config SITE`: the
site database's verified backups (`ebr.backup`), made, checked and restored by hand.

The backups go to `--dir`, by default the site file's `maintenance.backup.directory` (relative
to the site file; `backups` beside it when the file says nothing), the folder the gateway's
scheduled backups use too. The folder must exist: a backup disk that is not mounted must not
turn into backups on the system disk.

The engine audits what it does (`backup_made`, `backup_verified`, `backup_restored`,
`backups_pruned`, and `backup_failed` when making a backup fails). A verification, restore or
prune refused because of the backup (a tampered or missing file, a manifest that does not
match, a deletion inside the retention period) is audited here as `backup_failed` in the same
shape, so a tampered backup leaves a trace even when a person found it.

Backups hold the database only; keys and certificates are copied apart (docs/operations.md).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from config import SiteConfig
from ebr.audit.trail import AuditEvent, AuditTrail
from ebr.backup import MANIFEST_SUFFIX, BackupError, BackupManifest, Backups
from ebr.db import make_engine
from ebr.errors import StoreError
from ebr.schema import current_revision
from gateway.commands.common import CommandError, fail, load_config
from gateway.logs import get_logger
from gateway.maintenance import DAYS_PER_YEAR
from gateway.site_store import read_site_key, site_audit_trail

log = get_logger("tracegate.backup")

T = TypeVar("T")

BAD_BACKUP_HINT = (
    "do not restore from this backup; `tracegate backup list` shows the others, verify one of "
    "them, and make a new full backup (`tracegate backup full`)"
)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "backup",
        help="verified backups of the site database: make, list, verify, restore, prune",
        description=(
            "Backups of the site database, each verified by restoring it to a scratch copy. "
            "Keys and certificates are not in them: copy those apart."
        ),
    )
    sub = parser.add_subparsers(dest="backup_command", required=True)

    full = sub.add_parser("full", help="make a full backup now, and verify it")
    _common_arguments(full)
    full.set_defaults(run=run_full)

    incremental = sub.add_parser(
        "incremental", help="back up what changed since the latest backup, and verify it"
    )
    _common_arguments(incremental)
    incremental.set_defaults(run=run_incremental)

    verify = sub.add_parser(
        "verify", help="check a backup: checksum, restore to scratch, audit chain, every table"
    )
    _common_arguments(verify)
    verify.add_argument("manifest", type=Path, help="its *.manifest.json (or its file name)")
    verify.set_defaults(run=run_verify)

    listing = sub.add_parser("list", help="the backups in the folder, oldest first")
    _common_arguments(listing)
    listing.set_defaults(run=run_list)

    restore = sub.add_parser(
        "restore", help="restore a verified SQLite backup (and its incrementals) to a new file"
    )
    _common_arguments(restore)
    restore.add_argument("manifest", type=Path, help="its *.manifest.json (or its file name)")
    restore.add_argument(
        "--to", type=Path, required=True, help="the database file to create; must not exist"
    )
    restore.add_argument("--reason", required=True, help="why, for the audit trail")
    restore.set_defaults(run=run_restore)

    prune = sub.add_parser("prune", help="delete backups older than N days, past the retention")
    _common_arguments(prune)
    prune.add_argument("--older-than-days", type=int, required=True, metavar="N")
    prune.set_defaults(run=run_prune)


def log_alarm(kind: str, details: dict[str, Any]) -> None:
    """The engine's alarms, logged: the details carry a `kind` of their own."""
    log.error("backup.alarm", alarm=kind, **details)


def _common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, required=True, help="the site file")
    parser.add_argument(
        "--dir",
        type=Path,
        help="the backup folder (default: the site file's maintenance.backup.directory)",
    )


@dataclass(frozen=True, slots=True)
class SiteBackups:
    config: SiteConfig
    backups: Backups
    trail: AuditTrail
    directory: Path

    def manifest_path(self, given: Path) -> Path:
        """The manifest the user named: a path, or a name in the backup folder, with or
        without the manifest suffix."""
        names = [given, given.with_name(given.name + MANIFEST_SUFFIX)]
        candidates = names + ([] if given.is_absolute() else [self.directory / n for n in names])
        found = next(
            (c for c in candidates if c.name.endswith(MANIFEST_SUFFIX) and c.is_file()), None
        )
        if found is None:
            fail(
                f"there is no backup manifest {given} (looked here and in {self.directory})",
                hint=f"`tracegate backup list --config {self.config.source}` names the backups; "
                "pass a *.manifest.json or the name of its backup file",
            )
        return found

    def refused(self, action: str, error: StoreError) -> NoReturn:
        """Audit a backup found bad (or a refused deletion), then report it."""
        details = {"kind": action, "problem": error.message}
        try:
            self.trail.append([AuditEvent("backup_failed", "backup", action, new=details)])
        except SQLAlchemyError as audit_error:
            log_alarm("backup_failure_not_audited", {**details, "audit": _first_line(audit_error)})
        raise CommandError(error.message, hint=error.hint or BAD_BACKUP_HINT) from error


@contextmanager
def site_backups(args: argparse.Namespace) -> Iterator[SiteBackups]:
    config = load_config(args.config)
    directory: Path = args.dir or config.maintenance.backup.directory_path(config.base_dir)
    if not directory.is_dir():
        fail(
            f"the backup folder {directory} does not exist"
            + (" (or is not a folder)" if directory.exists() else ""),
            hint="mount the backup disk, or create the folder (`install -d -m 0750 -o tracegate "
            f"{directory}`), or pass --dir; the site file's maintenance.backup.directory "
            "sets the default",
        )
    engine = _open_database(config)
    where = _location(config.database_url)
    try:
        trail = site_audit_trail(config, engine, read_site_key(config.audit_key_path))
        retention = timedelta(days=DAYS_PER_YEAR * config.maintenance.backup.retention_years)
        backups = Backups(trail, directory, retention=retention, on_alarm=log_alarm)
        yield SiteBackups(config, backups, trail, directory)
    except SQLAlchemyError as error:
        fail(
            f"the database {where} failed: {_first_line(error)}",
            hint=f"check database.url in {config.source} and that the database is up; "
            "nothing was restored or deleted",
        )
    finally:
        engine.dispose()


def _open_database(config: SiteConfig) -> Engine:
    """The site's database, after checking it exists and has a schema (never creating it)."""
    url = config.database_url
    where = _location(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        fail(
            f"the site database {where} does not exist",
            hint=f"check database.url in {config.source}; to bring a database back from a "
            "backup use `tracegate backup restore`",
        )
    engine = make_engine(url)
    try:
        revision = current_revision(engine)
    except SQLAlchemyError as error:
        engine.dispose()
        fail(
            f"the database {where} does not answer: {_first_line(error)}",
            hint=f"check database.url in {config.source}, that the server runs and accepts "
            "this user",
        )
    if revision is None:
        engine.dispose()
        fail(
            f"the database {where} has no tracegate schema",
            hint=f"check database.url in {config.source}; "
            f"`tracegate db upgrade --config {config.source}` creates the schema",
        )
    return engine


def _making(work: Callable[[], T]) -> T:
    """Run a backup the engine audits itself, success and failure."""
    try:
        return work()
    except StoreError as error:
        raise CommandError(error.message, hint=error.hint or BAD_BACKUP_HINT) from error


def run_full(args: argparse.Namespace) -> int:
    with site_backups(args) as site:
        manifest = _making(site.backups.full)
    _print_made(manifest, site.directory)
    return 0


def run_incremental(args: argparse.Namespace) -> int:
    with site_backups(args) as site:
        manifest = _making(site.backups.incremental)
    _print_made(manifest, site.directory)
    return 0


def run_verify(args: argparse.Namespace) -> int:
    with site_backups(args) as site:
        path = site.manifest_path(args.manifest)
        try:
            manifest = site.backups.verify(path)
            chain = site.backups.backup_chain(path)
        except StoreError as error:
            site.refused("verify", error)
    print(
        f"verified {manifest.file}: {manifest.kind} backup of {manifest.database}, audit chain "
        f"head #{manifest.head_seq}, {len(manifest.digests)} tables equal to the live database "
        f"at {manifest.created_at}; restores from {len(chain)} file(s) "
        f"({', '.join(m.file for _, m in chain)})"
    )
    return 0


def run_list(args: argparse.Namespace) -> int:
    with site_backups(args) as site:
        directory = site.directory
    rows: list[tuple[str, str, str, str, str]] = []
    unreadable: list[str] = []
    named: set[str] = set()
    for path in sorted(directory.glob(f"*{MANIFEST_SUFFIX}")):
        try:
            manifest = BackupManifest.load(path)
        except BackupError as error:
            unreadable.append(error.message)
            continue
        named.add(manifest.file)
        present = "" if (directory / manifest.file).is_file() else "  (FILE MISSING)"
        rows.append(
            (
                manifest.created_at,
                manifest.kind,
                f"#{manifest.head_seq}",
                manifest.file + present,
                manifest.base_file,
            )
        )
    orphans = sorted(
        path.name
        for path in directory.iterdir()
        if path.is_file()
        and not path.name.endswith((MANIFEST_SUFFIX, ".tmp", ".restoring"))
        and path.name not in named
    )
    if not rows and not unreadable and not orphans:
        print(f"no backups in {directory}")
        return 0
    if rows:
        print(f"{'created (UTC)':32}  {'kind':11}  {'head':>7}  file  [continues]")
    for created, kind, head, file, base in sorted(rows):
        print(f"{created:32}  {kind:11}  {head:>7}  {file}" + (f"  [{base}]" if base else ""))
    for problem in unreadable:
        print(f"UNREADABLE MANIFEST: {problem}")
    for orphan in orphans:
        print(f"NO MANIFEST: {orphan} (cannot be verified or restored)")
    return 1 if unreadable else 0


def run_restore(args: argparse.Namespace) -> int:
    reason = args.reason.strip()
    if not reason:
        fail("--reason is empty", hint='say why, e.g. --reason "disk of the edge box failed"')
    target: Path = args.to.resolve()
    if target.exists():
        fail(
            f"{target} exists; a restore never overwrites a database",
            hint="restore to a new path and point the site file's database.url at it",
        )
    if not target.parent.is_dir():
        fail(
            f"the folder {target.parent} for the restored database does not exist",
            hint="create it, or restore to a path in an existing folder",
        )
    with site_backups(args) as site:
        path = site.manifest_path(args.manifest)
        try:
            manifest = BackupManifest.load(path)
            if manifest.database != "sqlite":
                _postgresql_restore_refused(site, path, manifest)
            site.backups.restore_sqlite(path, target, reason=reason)
            target.chmod(0o600)
        except StoreError as error:
            site.refused("restore", error)
    print(
        f"restored {manifest.file} (audit chain head #{manifest.head_seq}, as verified) to {target}"
    )
    print(
        "next: point database.url at it, then `tracegate audit verify --config FILE` and "
        "`tracegate doctor --config FILE` before production restarts; keys and certificates "
        "come from their own copy"
    )
    return 0


def _postgresql_restore_refused(
    site: SiteBackups, path: Path, manifest: BackupManifest
) -> NoReturn:
    chain = site.backups.backup_chain(path)
    full_path, full = chain[0]
    later = len(chain) - 1
    fail(
        f"{manifest.file} is a backup of a PostgreSQL database; `tracegate backup restore` "
        "restores SQLite backups only",
        hint=(
            f"check it with `tracegate backup verify {path.name}`, then restore its full backup "
            "into a new database (the dump creates its schema: drop the new database's empty "
            "`public` first): `createdb NEW && psql -d NEW -c 'DROP SCHEMA public' && "
            f"pg_restore --no-owner --dbname=NEW {full_path.parent / full.file}`, then "
            "`tracegate db upgrade` and `tracegate audit verify` on it; "
            f"that holds the records up to audit entry #{full.head_seq}"
            + (
                f" — the {later} incremental(s) after it are not applied that way (not supported "
                "yet)"
                if later
                else ""
            )
        ),
    )


def run_prune(args: argparse.Namespace) -> int:
    if args.older_than_days < 1:
        fail(
            f"--older-than-days {args.older_than_days} must be 1 or more",
            hint="give the age in days, at least the retention period (5 years: 1830)",
        )
    with site_backups(args) as site:
        try:
            removed = site.backups.prune(older_than=timedelta(days=args.older_than_days))
        except StoreError as error:
            site.refused("prune", error)
    if not removed:
        print(f"no backup is older than {args.older_than_days} days")
    for name in removed:
        print(f"removed {name}")
    return 0


def _print_made(manifest: BackupManifest, directory: Path) -> None:
    print(
        f"made and verified {manifest.kind} backup {directory / manifest.file} "
        f"(audit chain head #{manifest.head_seq})"
    )


def _location(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _first_line(error: SQLAlchemyError) -> str:
    return str(getattr(error, "orig", None) or error).strip().splitlines()[0]
