"""What the checks share: the options, the site file once loaded, the database once reached."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from config import SiteConfig

ReferenceClock = tuple[str, Callable[[], float]]
"""A time reference by name, and a function giving its offset in seconds (reference minus this
machine's clock); it raises `ebr.clock.ClockSourceError` when the reference does not answer."""

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class DoctorOptions:
    last_batches: int | None = None
    """Verify the journals of only the most recent this many batches; None: every batch."""
    disk_warn_percent: float = 10.0
    disk_fail_percent: float = 2.0
    disk_fail_bytes: int = 500 * MB
    certificate_warn_days: int = 30
    device_timeout_s: float = 3.0
    outbox_max_age_s: float = 3600.0
    """A message waiting longer than this means an uplink is not delivering."""
    ntp_timeout_s: float = 1.0
    reference_clocks: Sequence[ReferenceClock] | None = None
    """Time references to compare with; None: the site's NTP server, PostgreSQL's clock and the
    system's synchronisation status (timedatectl)."""


@dataclass
class DoctorContext:
    config_path: Path
    options: DoctorOptions = field(default_factory=DoctorOptions)
    config: SiteConfig | None = None
    """Set by the configuration check when the site file loads."""
    engine: Engine | None = None
    """Set by the database check when the database is reachable and has a schema."""

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()
