"""When the in-process checks of a batch are due, and when a due one is missed.

Each check is due when production starts and again after every interval; a due check is
announced once, and one whose result has not come within the grace period (or by the end of
production) is missed, once. Clock-free: the feed hands in the time (production's start is the
journal's, so a restarted feed finds the same due times), and the record says which are done.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ebr.audit.chain import utc_text


@dataclass(frozen=True, slots=True)
class CheckPlan:
    name: str
    interval: timedelta


@dataclass(frozen=True, slots=True)
class DueCheck:
    name: str
    due_at: datetime

    @property
    def ref(self) -> str:
        """The check's reference in the record's exceptions: its name and when it was due."""
        return f"{self.name}@{utc_text(self.due_at)}"


@dataclass
class CheckSchedule:
    plans: tuple[CheckPlan, ...]
    grace: timedelta
    started_at: datetime | None = None
    open: dict[DueCheck, None] = field(default_factory=dict)
    """Announced and neither done nor missed, oldest first."""
    _next: dict[str, datetime] = field(default_factory=dict)

    def start(self, at: datetime) -> None:
        """Production started at `at`: every check is due now (a second start changes
        nothing)."""
        if self.started_at is not None:
            return
        self.started_at = at
        self._next = {plan.name: at for plan in self.plans}

    def due(self, now: datetime) -> list[DueCheck]:
        """Checks that fell due by `now` since the last call, to be announced."""
        fresh: list[DueCheck] = []
        for plan in self.plans:
            at = self._next.get(plan.name)
            while at is not None and at <= now:
                check = DueCheck(plan.name, at)
                fresh.append(check)
                self.open[check] = None
                at = at + plan.interval
            if at is not None:
                self._next[plan.name] = at
        return fresh

    def done(self, checks: Iterable[DueCheck]) -> None:
        for check in checks:
            self.open.pop(check, None)

    def missed(self, now: datetime, *, ended: bool = False) -> list[DueCheck]:
        """Open checks whose grace ran out by `now`; with `ended`, every open check (production
        is over, no result can come in time any more)."""
        late = [c for c in self.open if ended or c.due_at + self.grace < now]
        for check in late:
            del self.open[check]
        return late

    def stop(self) -> None:
        """Production is over: nothing falls due any more."""
        self._next.clear()
