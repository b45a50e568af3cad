"""The line's hand on one batch's executed record: values, steps and exceptions written at
most once, so a feed that starts again (a gateway restart, a retried flush) adds nothing twice.

A value the line derives from something durable (a journal entry, the batch, a unit) carries
that origin as `evidence["line_ref"]`; the recorder remembers which (section, name, origin) it
holds. Steps already done are not completed again, and exceptions are kept one per kind and
reference by the record itself. Synchronous: the feed calls it from a worker thread.
"""

from __future__ import annotations

import threading
from typing import Any

from ebr.audit.actor import GATEWAY, Actor
from ebr.audit.chain import utc_text
from ebr.execution import ExecutionRecord
from ebr.execution.context import Who
from ebr.execution.kinds import ExceptionKind, Severity, Source, Step
from ebr.execution.values import Number
from ebr.users import Users
from gateway.line.ebr_journal import LineNote
from gateway.line.ebr_writes import Write

LINE_REF = "line_ref"
STEPS = tuple(Step)


class LineRecorder:
    def __init__(self, record: ExecutionRecord, batch_id: int, users: Users) -> None:
        self.record = record
        self.batch_id = batch_id
        self.users = users
        self._held: set[tuple[str, str, str]] = set()
        self._done: set[Step] = set()
        self._actors: dict[str, Actor] = {}
        self._lock = threading.Lock()

    def load(self) -> frozenset[Step]:
        """Read what the record already holds; returns the steps done."""
        held = set()
        for entry in self.record.entries(self.batch_id):
            evidence = entry.evidence
            if isinstance(evidence, dict) and isinstance(evidence.get(LINE_REF), str):
                held.add((entry.section, entry.name, evidence[LINE_REF]))
        done = {step.step for step in self.record.steps(self.batch_id)}
        with self._lock:
            self._held |= held
            self._done |= done
            return frozenset(self._done)

    def refresh(self) -> None:
        """Read which steps are done (people complete some of them)."""
        done = {step.step for step in self.record.steps(self.batch_id)}
        with self._lock:
            self._done |= done

    def missing(self, step: Step) -> Step | None:
        """The first step before `step` not done, as last read."""
        with self._lock:
            return next((s for s in STEPS[: STEPS.index(step)] if s not in self._done), None)

    def done(self, step: Step) -> bool:
        with self._lock:
            return step in self._done

    def holds(self, section: str, name: str, ref: str) -> bool:
        with self._lock:
            return (section, name, ref) in self._held

    def value(
        self,
        section: str,
        name: str,
        value: Any,
        *,
        ref: str | None = None,
        source: Source = Source.LINE,
        by: Who = GATEWAY,
        unit: str | None = None,
        low: Number | None = None,
        high: Number | None = None,
        reason: str | None = None,
        evidence: dict[str, Any] | None = None,
    ) -> int | None:
        """Record the value; None when the value of this origin is recorded already."""
        if ref is not None and self.holds(section, name, ref):
            return None
        shown = dict(evidence or {})
        if ref is not None:
            shown[LINE_REF] = ref
        entry_id = self.record.record(
            self.batch_id,
            section,
            name,
            value,
            source=source,
            by=by,
            unit=unit,
            low=low,
            high=high,
            reason=reason,
            evidence=shown or None,
        )
        if ref is not None:
            with self._lock:
                self._held.add((section, name, ref))
        return entry_id

    def complete(self, step: Step, by: Who = GATEWAY) -> None:
        if self.done(step):
            return
        if step not in {done.step for done in self.record.steps(self.batch_id)}:
            self.record.complete_step(self.batch_id, step, by)
        with self._lock:
            self._done.add(step)

    def exception(self, kind: ExceptionKind, severity: Severity, subject: str, ref: str) -> int:
        return self.record.raise_exception(self.batch_id, kind, severity, subject, ref)

    def actor(self, username: str) -> Actor:
        """The account behind a user name the journal wrote; the gateway when none is."""
        with self._lock:
            known = self._actors.get(username)
        if known is not None:
            return known
        found = next((a for a in self.users.accounts() if a.username == username), None)
        actor = Actor(found.id, found.username) if found is not None and username else GATEWAY
        with self._lock:
            self._actors[username] = actor
        return actor


def event_write(
    recorder: LineRecorder,
    name: str,
    value: dict[str, Any],
    *,
    note: LineNote | None = None,
    by: Who = GATEWAY,
    source: Source = Source.LINE,
) -> Write:
    """An entry of the `events` section (alarms, stops, comments…), from `note` when the journal
    told of it."""
    ref = None if note is None else f"journal:{note.seq}"
    evidence = None if note is None else {"journal_seq": note.seq, "at": utc_text(note.at)}

    def record() -> None:
        recorder.value("events", name, value, ref=ref, source=source, by=by, evidence=evidence)

    return Write(Step.PRODUCTION, f"event {name}", record)
