"""A batch with unit and case codes allocated, and shortcuts for journal events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from ebr.allocation import CodeAllocator
from ebr.journal import EventKind, Journal, JournalEntry, JournalEvent, JournalRejectedError
from ebr.models import Batch, Code
from serialization.rules import PackagingLevel
from serialization.states import CodeState
from tests.ebr.fixtures_master import MASTER_KEY, install_master_data, open_batch


@dataclass
class Line:
    engine: Engine
    journal: Journal
    batch: int
    units: list[str]
    cases: list[str]
    other_batch: int
    other_units: list[str]

    def event(
        self, kind: EventKind, key: str | None = None, batch: int | None = None, **data: Any
    ) -> JournalEvent:
        return JournalEvent(self.batch if batch is None else batch, kind, code_key=key, data=data)

    def append(self, *events: JournalEvent) -> list[JournalEntry | JournalRejectedError]:
        return self.journal.append_many(events)

    def ok(self, *events: JournalEvent) -> list[JournalEntry]:
        results = self.append(*events)
        errors = [r for r in results if isinstance(r, JournalRejectedError)]
        assert not errors, errors
        return [r for r in results if isinstance(r, JournalEntry)]

    def refused(self, event: JournalEvent) -> JournalRejectedError:
        (result,) = self.append(event)
        assert isinstance(result, JournalRejectedError), result
        return result

    def accept(self, *keys: str) -> None:
        self.ok(*(self.event(EventKind.UNIT_ISSUED, key) for key in keys))
        self.ok(*(self.event(EventKind.UNIT_ACCEPTED, key) for key in keys))

    def status(self) -> str:
        with self.engine.connect() as conn:
            return str(
                conn.execute(select(Batch.status).where(Batch.id == self.batch)).scalar_one()
            )

    def state(self, key: str) -> CodeState:
        return CodeState(self._column(key, Code.state))

    def parent(self, key: str) -> str | None:
        parent_id = self._column(key, Code.parent_id)
        if parent_id is None:
            return None
        with self.engine.connect() as conn:
            return str(conn.execute(select(Code.key).where(Code.id == parent_id)).scalar_one())

    def _column(self, key: str, column: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(select(column).where(Code.key == key)).scalar_one()


def make_line(engine: Engine, units: int = 20, cases: int = 4) -> Line:
    install_master_data(engine)
    batch = open_batch(engine, "amox")
    other = open_batch(engine, "amox", lot="CD-456")
    allocator = CodeAllocator(engine, master_key=MASTER_KEY)
    return Line(
        engine=engine,
        journal=Journal(engine),
        batch=batch,
        units=[c.key for c in allocator.allocate("line-1", batch, units)],
        cases=[
            c.key for c in allocator.allocate("line-1", batch, cases, level=PackagingLevel.CASE)
        ],
        other_batch=other,
        other_units=[c.key for c in allocator.allocate("line-1", other, 4)],
    )
