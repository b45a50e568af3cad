"""A site for the executed-record tests: people of every business role, one batch, the
executed record, and a way to move the batch through its phases as the line would."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import Engine, func, select

from ebr.execution import ExecutionRecord, Step, execution_requirements
from ebr.execution.models import EntryRow
from ebr.journal import EventKind, Journal, JournalEntry, JournalEvent
from ebr.models import Batch
from ebr.signatures import ESignatures
from ebr.users import Role, Session
from tests.ebr.audit.audit_users import OWN, Site
from tests.ebr.fixtures_master import install_master_data, open_batch

PEOPLE = {
    "olga": Role.OPERATOR,
    "pete": Role.OPERATOR,
    "sam": Role.SUPERVISOR,
    "quinn": Role.QA,
    "rita": Role.QA,
}
BEFORE_REVIEW = tuple(Step)[: tuple(Step).index(Step.REVIEW)]
_lots = itertools.count(1)


class ExecutionSite(Site):
    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.engine = engine
        install_master_data(engine)
        self.signatures = ESignatures(self.users, self.trail, execution_requirements())
        self.journal = Journal(engine, clock=self.clock, audit=self.trail)
        self.record = ExecutionRecord(
            engine, self.trail, self.signatures, self.users, journal=self.journal
        )
        self.batch = self.new_batch()
        self._sessions: dict[str, Session] = {}

    def new_batch(self) -> int:
        return open_batch(self.engine, "amox", lot=f"EX-{next(_lots)}")

    def session(self, name: str) -> Session:
        """The person's session; their account is created on first use."""
        if name not in self._sessions:
            self.add(name, PEOPLE[name])
            self._sessions[name] = self.users.login(name, OWN)
        return self._sessions[name]

    def complete_through(self, last: Step, batch: int | None = None) -> None:
        batch = batch or self.batch
        order = tuple(Step)
        done = {s.step for s in self.record.steps(batch)}
        for step in order[: order.index(last) + 1]:
            if step not in done:
                self.record.complete_step(batch, step, self.session("olga"))

    def status(self, batch: int | None = None) -> str:
        with self.engine.connect() as conn:
            return str(
                conn.execute(select(Batch.status).where(Batch.id == (batch or self.batch))).scalar()
            )

    def phase(self, to: str, batch: int | None = None) -> None:
        batch = batch or self.batch
        self.journal_event(
            JournalEvent(batch, EventKind.BATCH_PHASE, data={"from": self.status(batch), "to": to})
        )

    def journal_event(self, event: JournalEvent) -> JournalEntry:
        (result,) = self.journal.append_many([event])
        assert isinstance(result, JournalEntry), result
        return result

    def entry_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(EntryRow)).scalar_one())

    def audit_events(self, event: str) -> list[Any]:
        return [entry.new for entry in self.trail.entries(event=event)]
