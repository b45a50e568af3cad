"""The `audit` and `maintenance` sections: signed checkpoints and the gateway's periodic work.

Both are optional; the defaults suit a plant: a signed checkpoint every 1000 entries or
15 minutes, the clock checked every minute against the local chrony, a full backup nightly
and an incremental every hour, kept five years.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from pydantic import Field, field_validator, model_validator

from config.fields import StrictModel
from config.problems import InvalidValue

MIN_RETENTION_YEARS: Final = 5


class AuditSection(StrictModel):
    """When the audit trail's head is signed with the site key (R-AUD-2)."""

    checkpoint_every: int = Field(
        default=1000, ge=1, description="Sign a checkpoint after this many new entries."
    )
    checkpoint_minutes: float = Field(
        default=15,
        gt=0,
        description="Sign a checkpoint at least this often (minutes) while entries are unsigned.",
    )


class ClockSection(StrictModel):
    """The time source the system clock is measured against (R-CLK-1)."""

    ntp_server: str = Field(
        default="127.0.0.1", description="NTP server (the site's chrony, a GPS clock), host name."
    )
    ntp_port: int = Field(default=123, ge=1, le=65535, description="Its UDP port.")
    tolerance_ms: int = Field(
        default=1000,
        ge=1,
        description="Largest offset allowed; beyond it an alarm is raised and signing is disabled.",
    )
    check_minutes: float = Field(default=1, gt=0, description="Minutes between clock checks.")


class BackupSection(StrictModel):
    """Verified full and incremental backups (R-BAK-1)."""

    directory: str = Field(
        default="backups", description="Folder for backups, relative to this file."
    )
    full_cron: str | None = Field(
        default="0 2 * * *",
        description="When full backups run, as a crontab line in UTC (default: 02:00 daily).",
    )
    every_hours: float | None = Field(
        default=None,
        gt=0,
        description="Instead of full_cron: a full backup every this many hours.",
    )
    incremental_minutes: float = Field(
        default=60, gt=0, description="Minutes between incremental backups."
    )
    retention_years: int = Field(
        default=MIN_RETENTION_YEARS,
        description="Years backups and records are kept; at least five (R-REC-1).",
    )

    @field_validator("retention_years")
    @classmethod
    def _at_least_five(cls, value: int) -> int:
        if value < MIN_RETENTION_YEARS:
            raise InvalidValue(
                f"a retention of {value} years is below the five GMP requires",
                hint="use retention_years: 5 or more",
            )
        return value

    @field_validator("full_cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value is not None and len(value.split()) != 5:
            raise InvalidValue(
                f"{value!r} is not a crontab line of five fields",
                hint='e.g. "0 2 * * *" for 02:00 UTC every day',
            )
        return value

    @model_validator(mode="after")
    def _one_full_schedule(self) -> BackupSection:
        if self.every_hours is not None and "full_cron" in self.model_fields_set:
            raise InvalidValue(
                "full_cron and every_hours both say when full backups run",
                hint="keep one of them",
            )
        return self

    def directory_path(self, base_dir: Path) -> Path:
        return base_dir / self.directory


class MaintenanceSection(StrictModel):
    """The gateway's periodic work: timed checkpoints, clock checks, backups."""

    clock: ClockSection = Field(default_factory=ClockSection, description="The time source.")
    backup: BackupSection = Field(default_factory=BackupSection, description="Backups.")
