"""Random event sequences, legal and illegal, never fork the chain or the derived state."""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, select
from sqlalchemy.orm import aliased

from ebr.allocation import CodeAllocator
from ebr.journal import EventKind, Journal, JournalEntry, JournalEvent, verify_journal
from ebr.models import Allocation, Code
from serialization.rules import PackagingLevel
from serialization.states import CodeState
from tests.ebr.fixtures_master import MASTER_KEY, install_master_data, open_batch

K = EventKind
UNIT_KINDS = [
    K.UNIT_ISSUED,
    K.UNIT_ACCEPTED,
    K.UNIT_REJECTED,
    K.REJECT_CONFIRMED,
    K.UNIT_SAMPLED,
    K.UNIT_DESTROYED,
]
CASE_KINDS = [K.AGGREGATED, K.CHILD_ADDED, K.CHILD_REMOVED, K.UNPACKED, K.LABEL_REPLACED]
lots = itertools.count(1)
written_kinds: Counter[EventKind] = Counter()


def _data(kind: EventKind, draw: Any, units: list[str], cases: list[str]) -> dict[str, Any]:
    if kind is K.UNIT_REJECTED:
        return {"reason": "camera", "detail": "grade"}
    if kind is K.UNIT_SAMPLED:
        return {"reason": "qc", "destructive": draw(st.booleans()), "user": "qa"}
    if kind in (K.UNIT_DESTROYED, K.UNPACKED):
        return {"reason": "damaged", "user": "op"}
    if kind is K.AGGREGATED:
        children = draw(st.lists(st.sampled_from(units), min_size=1, max_size=4, unique=True))
        return {"children": children, "level": "case"}
    if kind in (K.CHILD_ADDED, K.CHILD_REMOVED):
        return {"child": draw(st.sampled_from(units))}
    if kind is K.LABEL_REPLACED:
        return {"old": draw(st.sampled_from(cases)), "reason": "torn"}
    if kind is K.CODES_VOIDED:
        return {
            "keys": draw(st.lists(st.sampled_from(units), min_size=1, max_size=3)),
            "reason": "x",
        }
    return {}


def _machine(engine: Engine) -> type[RuleBasedStateMachine]:
    allocator = CodeAllocator(engine, master_key=MASTER_KEY)

    class JournalMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.batch = open_batch(engine, "amox", lot=f"HY-{next(lots)}")
            self.units = [c.key for c in allocator.allocate("line-1", self.batch, 8)]
            self.cases = [
                c.key
                for c in allocator.allocate("line-1", self.batch, 3, level=PackagingLevel.CASE)
            ]
            self.journal = Journal(engine)
            self.written = 0

        def _event(self, draw: Any) -> JournalEvent:
            if draw(st.booleans()):
                kind = draw(st.sampled_from(UNIT_KINDS))
                key = draw(st.sampled_from(self.units))
            else:
                kind = draw(st.sampled_from([*CASE_KINDS, K.CODES_VOIDED]))
                key = None if kind is K.CODES_VOIDED else draw(st.sampled_from(self.cases))
            data = _data(kind, draw, self.units, self.cases)
            return JournalEvent(self.batch, kind, code_key=key, data=data)

        def _write(self, events: list[JournalEvent]) -> None:
            results = self.journal.append_many(events)
            for result in results:
                if isinstance(result, JournalEntry):
                    written_kinds[result.event.kind] += 1
            self.written += sum(isinstance(r, JournalEntry) for r in results)

        def _keys(self, states: set[CodeState], *, loose: bool | None = None) -> list[str]:
            query = (
                select(Code.key)
                .join(Allocation, Code.allocation_id == Allocation.id)
                .where(Allocation.batch_id == self.batch, Code.state.in_(states))
                .order_by(Code.id)
            )
            if loose is not None:
                query = query.where(
                    Code.parent_id.is_(None) if loose else Code.parent_id.isnot(None)
                )
            with engine.connect() as conn:
                return list(conn.execute(query).scalars())

        @initialize()
        def accept_some_units(self) -> None:
            self._write(
                [
                    JournalEvent(self.batch, kind, code_key=key)
                    for kind in (K.UNIT_ISSUED, K.UNIT_ACCEPTED)
                    for key in self.units[:4]
                ]
            )

        @rule(data=st.data(), size=st.integers(1, 6))
        def append_anything(self, data: st.DataObject, size: int) -> None:
            self._write([self._event(data.draw) for _ in range(size)])

        @rule(data=st.data())
        def run_units_through(self, data: st.DataObject) -> None:
            keys = data.draw(
                st.lists(st.sampled_from(self.units), min_size=1, max_size=4, unique=True)
            )
            self._write(
                [
                    JournalEvent(self.batch, kind, code_key=key)
                    for kind in (K.UNIT_ISSUED, K.UNIT_ACCEPTED)
                    for key in keys
                ]
            )

        @rule(data=st.data())
        def pack_a_case(self, data: st.DataObject) -> None:
            units = self._keys({CodeState.COMMISSIONED}, loose=True)
            fresh = self._keys({CodeState.ALLOCATED, CodeState.ENCODED})
            labels = [key for key in fresh if key in self.cases]
            if not units or not labels:
                return
            children = data.draw(
                st.lists(st.sampled_from(units), min_size=1, max_size=3, unique=True)
            )
            label = data.draw(st.sampled_from(labels))
            packed = {"children": children, "level": "case"}
            self._write([JournalEvent(self.batch, K.AGGREGATED, code_key=label, data=packed)])

        @rule(data=st.data())
        def change_a_case(self, data: st.DataObject) -> None:
            cases = [k for k in self._keys({CodeState.COMMISSIONED}) if k in self.cases]
            if not cases:
                return
            case = data.draw(st.sampled_from(cases))
            kind = data.draw(st.sampled_from(CASE_KINDS[1:]))
            pool = {
                K.CHILD_ADDED: self._keys({CodeState.COMMISSIONED}, loose=True),
                K.CHILD_REMOVED: self._keys({CodeState.COMMISSIONED}, loose=False),
            }.get(kind, [])
            event_data = _data(
                kind, data.draw, [k for k in pool if k in self.units] or self.units, cases
            )
            if kind is K.LABEL_REPLACED:
                fresh = [k for k in self.cases if k not in cases] or self.cases
                event_data = {"old": case, "reason": "torn"}
                case = data.draw(st.sampled_from(fresh))
            self._write([JournalEvent(self.batch, kind, code_key=case, data=event_data)])

        @invariant()
        def journal_verifies(self) -> None:
            result = verify_journal(engine, self.batch)
            assert (result.ok, result.states_match, result.problem) == (True, True, None)
            assert result.events == self.written == self.journal.last_seq(self.batch)

        @invariant()
        def only_commissioned_units_sit_in_commissioned_cases(self) -> None:
            parent = aliased(Code)
            with engine.connect() as conn:
                pairs = conn.execute(
                    select(Code.state, parent.state)
                    .join(parent, Code.parent_id == parent.id)
                    .join(Allocation, Code.allocation_id == Allocation.id)
                    .where(Allocation.batch_id == self.batch)
                ).all()
            for child_state, parent_state in pairs:
                assert child_state == CodeState.COMMISSIONED
                assert parent_state == CodeState.COMMISSIONED

    return JournalMachine


def test_random_event_sequences_keep_the_journal_consistent(engine: Engine) -> None:
    install_master_data(engine)
    written_kinds.clear()
    run_state_machine_as_test(
        _machine(engine),
        settings=settings(
            max_examples=15,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    assert written_kinds[K.AGGREGATED] > 0, "the machine should exercise aggregation"
