"""Free space on the filesystems of the site folder, the database and the backups."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from gateway.doctor.context import MB, DoctorContext, DoctorOptions
from gateway.doctor.verdict import Status, Verdict

ITEM = "disk space"


@dataclass(frozen=True, slots=True)
class Space:
    role: str
    path: Path
    free_bytes: int
    total_bytes: int

    @property
    def free_percent(self) -> float:
        return 100.0 * self.free_bytes / self.total_bytes if self.total_bytes else 0.0

    def describe(self) -> str:
        return (
            f"{self.role} {self.path}: {self.free_bytes / MB:,.0f} MB free "
            f"of {self.total_bytes / MB:,.0f} MB ({self.free_percent:.1f} %)"
        )


def measure(role: str, path: Path) -> Space:
    stats = os.statvfs(path)
    return Space(role, path, stats.f_bavail * stats.f_frsize, stats.f_blocks * stats.f_frsize)


def status_of(space: Space, options: DoctorOptions) -> Status:
    if space.free_percent < options.disk_fail_percent or space.free_bytes < options.disk_fail_bytes:
        return Status.FAIL
    if space.free_percent < options.disk_warn_percent:
        return Status.WARN
    return Status.OK


def check_disk(context: DoctorContext) -> Verdict:
    config = context.config
    if config is None:
        return Verdict(ITEM, Status.SKIP, "not checked: the site file does not load")
    places = [("site folder", config.base_dir.resolve())]
    database = _database_folder(context)
    if database is not None:
        places.append(("database", database))
    backups = (config.base_dir / config.maintenance.backup.directory).resolve()
    if backups.is_dir():
        places.append(("backups", backups))
    spaces: list[Space] = []
    devices: set[int] = set()
    for role, path in places:
        device = path.stat().st_dev
        if device in devices:
            continue
        devices.add(device)
        spaces.append(measure(role, path))
    judged = [(status_of(space, context.options), space) for space in spaces]
    worst = max((status for status, _ in judged), key=_SEVERITY.index)
    low = [space for status, space in judged if status is not Status.OK]
    options = context.options
    limits = (
        f"warn below {options.disk_warn_percent:g} %, fail below {options.disk_fail_percent:g} % "
        f"or {options.disk_fail_bytes / MB:,.0f} MB"
    )
    if not low:
        return Verdict(ITEM, Status.OK, "; ".join(s.describe() for s in spaces) + f" ({limits})")
    return Verdict(
        ITEM,
        worst,
        "low on space: " + "; ".join(s.describe() for s in low) + f" ({limits})",
        ", ".join(str(s.path) for s in low),
        "free space (old logs, backups already copied off the machine) or grow the filesystem; "
        "a full database filesystem stops the line",
    )


_SEVERITY = (Status.OK, Status.WARN, Status.FAIL)


def _database_folder(context: DoctorContext) -> Path | None:
    """The SQLite file's folder, or PostgreSQL's data directory when it is on this machine."""
    assert context.config is not None
    url = make_url(context.config.database_url)
    if url.get_backend_name() == "sqlite":
        folder = Path(url.database or ".").parent
        return folder.resolve() if folder.is_dir() else None
    if context.engine is None:
        return None
    try:
        with context.engine.connect() as conn:
            setting = conn.execute(text("SHOW data_directory")).scalar()
    except SQLAlchemyError:
        return None
    if setting is None or not Path(str(setting)).is_dir():
        return None
    return Path(str(setting))
