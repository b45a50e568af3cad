"""What the feed records while the batch is in production: process parameters and in-process
checks, with the alarms that tell the operator about them.

`ParameterWatch` turns samples into `parameters` entries with their limits. A parameter that
leaves its limits is recorded once — which opens a deviation and an `out_of_limit` exception —
and raises `PARAMETER_OUT_OF_LIMIT`; while it stays out, further samples only widen the
excursion, which is recorded with the first sample back within limits (or as an event when
production ends first). A parameter that cannot be read is an event, once per stretch.

`CheckWatch` schedules each check in the record when it falls due and raises `CHECK_DUE`;
it asks the record now and then which are done, and once a check's grace period is over it
has the record raise the `missed_check` exceptions (`CHECK_MISSED`). When production ends,
every scheduled check still not done is missed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from ebr.audit.chain import utc_text
from ebr.execution import ScheduledCheck
from ebr.execution.kinds import ExceptionKind, Severity, Source, Step
from gateway.alarms.manager import AlarmManager
from gateway.line.ebr_alarms import CHECK_DUE, CHECK_MISSED, PARAMETER_OUT_OF_LIMIT
from gateway.line.ebr_checks import CheckPlan, CheckSchedule, DueCheck
from gateway.line.ebr_journal import LineNote
from gateway.line.ebr_parameters import Sample
from gateway.line.ebr_recorder import LineRecorder, event_write
from gateway.line.ebr_writes import Write

CHECK_POLL_S = 5.0
"""While checks are due, how often the record is asked which are done."""


@dataclass
class Excursion:
    """A parameter out of its limits since `since`, recorded once until it is back."""

    since: datetime
    worst: Decimal
    samples: int = 1

    def widen(self, value: Decimal, low: Decimal | None) -> None:
        self.samples += 1
        below = low is not None and value < low
        self.worst = min(self.worst, value) if below else max(self.worst, value)

    def summary(self, until: datetime) -> dict[str, Any]:
        return {
            "since": utc_text(self.since),
            "until": utc_text(until),
            "samples_out_of_limits": self.samples,
            "worst": self.worst,
        }


class ParameterWatch:
    def __init__(self, recorder: LineRecorder, alarms: AlarmManager) -> None:
        self.recorder = recorder
        self.alarms = alarms
        self.excursions: dict[str, Excursion] = {}
        self.unread: set[str] = set()

    def take(self, sample: Sample) -> list[Write]:
        plan = sample.plan
        if sample.value is None:
            if plan.name in self.unread:
                return []
            self.unread.add(plan.name)
            problem = {"parameter": plan.name, "problem": sample.problem}
            return [event_write(self.recorder, "parameter_not_read", problem)]
        self.unread.discard(plan.name)
        excursion = self.excursions.get(plan.name)
        evidence: dict[str, Any] = {
            "tag": f"{plan.device}:{plan.tag}",
            "read_at": utc_text(sample.read_at),
            "detail": sample.detail,
        }
        if sample.out_of_limits:
            if excursion is not None:
                excursion.widen(sample.value, plan.low)
                return []
            self.excursions[plan.name] = Excursion(sample.read_at, sample.value)
            self.alarms.activate(
                PARAMETER_OUT_OF_LIMIT.id,
                plan.name,
                f"{plan.name} = {sample.value} {plan.unit}, limits "
                f"[{_shown(plan.low)}, {_shown(plan.high)}]",
            )
        elif excursion is not None:
            evidence["excursion"] = excursion.summary(sample.read_at)
            del self.excursions[plan.name]
            self.alarms.clear(PARAMETER_OUT_OF_LIMIT.id, plan.name)
        value = sample.value

        def record() -> None:
            self.recorder.value(
                "parameters",
                plan.name,
                value,
                source=Source.TAG,
                unit=plan.unit,
                low=plan.low,
                high=plan.high,
                evidence=evidence,
            )

        return [Write(Step.PRODUCTION, f"parameter {plan.name}", record)]

    def end(self, note: LineNote) -> list[Write]:
        """Production ended: excursions still open are recorded as events."""
        writes = []
        for name, excursion in self.excursions.items():
            summary = {"parameter": name, **excursion.summary(note.at)}
            writes.append(
                event_write(self.recorder, "parameter_out_of_limits_at_end", summary, note=note)
            )
            self.alarms.clear(PARAMETER_OUT_OF_LIMIT.id, name)
        self.excursions.clear()
        return writes


class CheckWatch:
    def __init__(
        self,
        recorder: LineRecorder,
        alarms: AlarmManager,
        plans: tuple[CheckPlan, ...],
        grace: timedelta,
    ) -> None:
        self.recorder = recorder
        self.alarms = alarms
        self.grace = grace
        self.schedule = CheckSchedule(plans, grace)
        self._next_poll = 0.0

    def start(self, at: datetime) -> None:
        self.schedule.start(at)

    def tick(self, now: float, moment: datetime) -> list[Write]:
        """The writes due at monotonic `now` (UTC `moment`)."""
        writes: list[Write] = []
        batch_id = self.recorder.batch_id
        record = self.recorder.record
        for check in self.schedule.due(moment):
            self.alarms.activate(
                CHECK_DUE.id, check.name, f"{check.name} due at {utc_text(check.due_at)}"
            )
            writes.append(
                Write(
                    Step.PRODUCTION,
                    f"check {check.name} due",
                    functools.partial(record.schedule_check, batch_id, check.name, check.due_at),
                )
            )
        if self.schedule.open and now >= self._next_poll:
            self._next_poll = now + CHECK_POLL_S
            writes.append(
                Write(
                    Step.PRODUCTION,
                    "the checks done",
                    lambda: record.checks(batch_id),
                    then=self._done,
                )
            )
        if self.schedule.missed(moment):
            writes.append(
                Write(
                    Step.PRODUCTION,
                    "the checks overdue",
                    lambda: record.overdue_checks(batch_id),
                    then=self._missed,
                )
            )
        return writes

    def end(self) -> list[Write]:
        """Production ended: no check falls due any more, and those not done are missed."""
        self.schedule.stop()
        self.schedule.done(list(self.schedule.open))
        return [
            Write(
                Step.PRODUCTION,
                "the checks left at the end of production",
                self._missed_at_end,
                then=self._missed,
            )
        ]

    def _missed_at_end(self) -> list[ScheduledCheck]:
        missed = [c for c in self.recorder.record.checks(self.recorder.batch_id) if not c.done]
        for check in missed:
            self.recorder.exception(
                ExceptionKind.MISSED_CHECK,
                Severity.MAJOR,
                f"check {check.name} due at {utc_text(check.due_at)} was not done before "
                "production ended",
                f"{check.name}@{utc_text(check.due_at)}",
            )
        return missed

    def _done(self, checks: list[ScheduledCheck]) -> None:
        done = [DueCheck(c.name, c.due_at) for c in checks if c.done]
        self.schedule.done(done)
        for check in done:
            self.alarms.clear(CHECK_DUE.id, check.name)

    def _missed(self, missed: list[ScheduledCheck]) -> None:
        for check in missed:
            self.alarms.clear(CHECK_DUE.id, check.name)
            self.alarms.activate(
                CHECK_MISSED.id, check.name, f"{check.name} due at {utc_text(check.due_at)}"
            )


def _shown(value: Decimal | None) -> str:
    return "-" if value is None else str(value)
