"""The gateway's periodic work, on an APScheduler 3 scheduler, as the site file's `audit` and
`maintenance` sections say:

- a timed audit checkpoint every `audit.checkpoint_minutes`, only while entries are unsigned, so
  an idle line still gets its head signed and an idle trail does not grow;
- the clock check against the configured NTP source every `maintenance.clock.check_minutes`
  (first at start, since signing waits for a reading);
- full backups (`full_cron`, or every `every_hours`) and incrementals, each verified.

Every run is an audit entry (`maintenance_run`, or `maintenance_failed` with the problem and an
alarm). The checkpoint's own entry is signed by the checkpoint it announces.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from config import SiteConfig
from ebr.audit.actor import GATEWAY
from ebr.audit.trail import AuditEvent, AuditTrail
from ebr.backup import BackupManifest, Backups
from ebr.clock import ClockGuard, sntp_offset
from ebr.errors import StoreError
from gateway.logs import get_logger

log = get_logger("tracegate.maintenance")

Alarm = Callable[[str, dict[str, Any]], None]
DAYS_PER_YEAR = 366
"""Retention is counted generously: five years are never cut short by a leap day."""


def log_alarm(kind: str, details: dict[str, Any]) -> None:
    """The engine's alarms, logged: their details may carry a `kind` of their own."""
    log.warning("alarm", alarm=kind, **details)


def gateway_scheduler() -> Any:
    """The gateway's scheduler: on its event loop, running the blocking jobs on a small thread
    pool of its own, so `shutdown(wait=True)` waits for a job under way (a backup) to finish."""
    return AsyncIOScheduler(timezone=UTC, executors={"default": ThreadPoolExecutor(2)})


@dataclass(frozen=True, slots=True)
class JobPlan:
    """One scheduled job: its id, what it runs, and its APScheduler trigger."""

    job_id: str
    run: Callable[[], object]
    trigger: Any
    first_run: datetime | None = None


class Maintenance:
    def __init__(
        self, config: SiteConfig, audit: AuditTrail, *, on_alarm: Alarm = log_alarm
    ) -> None:
        clock = config.maintenance.clock
        backup = config.maintenance.backup
        self._config = config
        self._audit = audit
        self._on_alarm = on_alarm
        self.clock = ClockGuard(
            audit,
            lambda: sntp_offset(clock.ntp_server, clock.ntp_port),
            source_name=f"ntp://{clock.ntp_server}:{clock.ntp_port}",
            tolerance=timedelta(milliseconds=clock.tolerance_ms),
            max_age=max(timedelta(minutes=10), timedelta(minutes=3 * clock.check_minutes)),
            on_alarm=on_alarm,
        )
        self.backups = Backups(
            audit,
            backup.directory_path(config.base_dir),
            retention=timedelta(days=DAYS_PER_YEAR * backup.retention_years),
            on_alarm=on_alarm,
        )

    def plan(self) -> list[JobPlan]:
        """The jobs and their triggers, from the site file."""
        clock = self._config.maintenance.clock
        backup = self._config.maintenance.backup
        if backup.every_hours is not None:
            full_trigger: Any = IntervalTrigger(seconds=backup.every_hours * 3600, timezone=UTC)
        else:
            full_trigger = CronTrigger.from_crontab(backup.full_cron or "0 2 * * *", timezone=UTC)
        return [
            JobPlan(
                "audit-checkpoint",
                self.checkpoint,
                _every(self._config.audit.checkpoint_minutes),
            ),
            JobPlan(
                "clock-check",
                self.check_clock,
                _every(clock.check_minutes),
                first_run=datetime.now(UTC),
            ),
            JobPlan("backup-full", self.full_backup, full_trigger),
            JobPlan(
                "backup-incremental", self.incremental_backup, _every(backup.incremental_minutes)
            ),
        ]

    def schedule(self, scheduler: Any) -> None:
        """Add the jobs to an APScheduler 3 scheduler (`gateway_scheduler()` in the gateway; a
        `BackgroundScheduler` works too)."""
        for job in self.plan():
            options: dict[str, Any] = {}
            if job.first_run is not None:
                options["next_run_time"] = job.first_run
            scheduler.add_job(
                job.run,
                job.trigger,
                id=job.job_id,
                replace_existing=True,
                max_instances=1,
                coalesce=True,
                **options,
            )

    def checkpoint(self) -> int | None:
        """Sign the head when entries are unsigned; the run's entry is part of what is signed."""
        if self._audit.unsigned_entries() == 0:
            return None
        with self._audit.engine.begin() as conn:
            self._audit.record(conn, [_run_event("audit-checkpoint", "ok", {})])
            number = self._audit.checkpoint(conn)
        log.info("maintenance.checkpoint", checkpoint=number)
        return number

    def check_clock(self) -> None:
        def measure() -> dict[str, Any]:
            status = self.clock.check()
            offset = None if status.offset_s is None else round(status.offset_s * 1e6)
            return {"offset_us": offset, "within_tolerance": status.within_tolerance}

        self._run("clock-check", measure)

    def full_backup(self) -> None:
        self._run("backup-full", lambda: _manifest_details(self.backups.full()))

    def incremental_backup(self) -> None:
        self._run(
            "backup-incremental", lambda: _manifest_details(self.backups.incremental_or_full())
        )

    def _run(self, job: str, work: Callable[[], dict[str, Any]]) -> None:
        try:
            details = work()
        except StoreError as error:
            problem = {"job": job, "problem": error.message}
            log.error("maintenance.failed", **problem)
            self._on_alarm("maintenance_failed", problem)
            self._audit.append([_run_event(job, "failed", problem)])
            return
        log.info("maintenance.run", job=job, **details)
        self._audit.append([_run_event(job, "ok", details)])


def _every(minutes: float) -> IntervalTrigger:
    return IntervalTrigger(seconds=minutes * 60, timezone=UTC)


def _manifest_details(manifest: BackupManifest) -> dict[str, Any]:
    return {"kind": manifest.kind, "file": manifest.file, "head_seq": manifest.head_seq}


def _run_event(job: str, outcome: str, details: dict[str, Any]) -> AuditEvent:
    return GATEWAY.event(
        "maintenance_failed" if outcome == "failed" else "maintenance_run",
        "maintenance",
        job,
        new={"outcome": outcome, **details},
    )
