"""Checking a batch's journal: the chain, and the current state derived from it.

The chain check recomputes every entry's hash and link, and requires seq 1, 2, 3, … without
gaps. The state check replays every event through the same rules the journal applies
(`ebr.journal.effects`) and compares the result with the codes' current states and parents and
with the batch's status. A code's state before the journal first changed it is the `from_state`
of the first `code_transitions` row the journal wrote for it; if another writer (such as
`CodeStates`) changed it after the journal's last change, the state compared is the one that
writer found.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select

from ebr.journal.chain import GENESIS, as_utc, event_hash
from ebr.journal.effects import CodeRow, CodeView, plan
from ebr.journal.events import EventKind, JournalEvent, JournalRejectedError
from ebr.journal.store import JOURNAL, code_rows
from ebr.models import Allocation, Batch, Code, CodeTransition, JournalEventRow
from serialization.states import CodeState

INITIAL_BATCH_STATUS = "downloaded"


@dataclass(frozen=True, slots=True)
class JournalVerification:
    batch_id: int
    events: int
    ok: bool
    """The chain is intact: every hash and link recomputes, seq runs 1..events."""
    first_bad_seq: int | None
    problem: str | None
    """What is wrong with the chain or, if the chain is intact, with the derived state."""
    states_match: bool
    """Replaying the journal gives the codes' current states and parents, and the batch's
    status."""


@dataclass(frozen=True, slots=True)
class _Stored:
    seq: int
    event: JournalEvent


def verify_journal(engine: Engine, batch_id: int) -> JournalVerification:
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        status = conn.execute(select(Batch.status).where(Batch.id == batch_id)).scalar()
        if status is None:
            return JournalVerification(batch_id, 0, False, None, f"unknown batch {batch_id}", False)
        rows = conn.execute(
            select(JOURNAL)
            .where(JournalEventRow.batch_id == batch_id)
            .order_by(JournalEventRow.seq)
        ).all()
        stored, bad_seq, problem = _check_chain(rows)
        states_problem = _check_states(conn, batch_id, str(status), stored)
    return JournalVerification(
        batch_id=batch_id,
        events=len(rows),
        ok=problem is None,
        first_bad_seq=bad_seq,
        problem=problem or states_problem,
        states_match=states_problem is None,
    )


def _check_chain(
    rows: Sequence[Any],
) -> tuple[list[_Stored], int | None, str | None]:
    """The events up to the first bad entry, that entry's seq, and what is wrong with it."""
    stored: list[_Stored] = []
    prev = GENESIS
    for expected, row in enumerate(rows, start=1):
        if row.seq != expected:
            return stored, row.seq, f"seq {row.seq} where {expected} was expected (gap or repeat)"
        if row.prev_hash != prev:
            return stored, row.seq, f"seq {row.seq} does not link to the hash of seq {expected - 1}"
        try:
            data = json.loads(row.data)
            kind = EventKind(row.kind)
        except ValueError as error:
            return stored, row.seq, f"seq {row.seq} cannot be read: {error}"
        digest = event_hash(
            batch_id=row.batch_id,
            seq=row.seq,
            at=as_utc(row.at),
            kind=row.kind,
            unit_ref=row.unit_ref,
            code_key=row.code_key,
            data=data,
            prev_hash=row.prev_hash,
        )
        if digest != row.hash:
            return (
                stored,
                row.seq,
                f"seq {row.seq} was altered: its hash does not match its content",
            )
        event = JournalEvent(row.batch_id, kind, row.unit_ref, row.code_key, data)
        stored.append(_Stored(row.seq, event))
        prev = row.hash
    return stored, None, None


def _check_states(
    conn: Connection, batch_id: int, status: str, stored: Sequence[_Stored]
) -> str | None:
    current = {row.key: row for row in code_rows(conn, Allocation.batch_id == batch_id)}
    before, after = _states_around_journal(conn, batch_id)
    replayed = [
        CodeRow(row.id, row.key, before.get(row.id, row.state), row.batch_id)
        for row in current.values()
    ]
    phases = [s.event for s in stored if s.event.kind is EventKind.BATCH_PHASE]
    first_status = phases[0].data.get("from") if phases else None
    initial_status = first_status if isinstance(first_status, str) else ""
    view = CodeView.of(replayed, {batch_id: initial_status})
    for entry in stored:
        try:
            view.apply(plan(entry.event, view), "")
        except JournalRejectedError as error:
            return f"seq {entry.seq} does not replay: {error.message}"
    for key, row in current.items():
        expected = view.rows[key]
        state = after.get(row.id, row.state)
        if expected.state is not state:
            return f"code {key} is {state.label}, the journal leaves it {expected.state.label}"
        if expected.parent_key != row.parent_key:
            return (
                f"code {key} is in case {row.parent_key}, "
                f"the journal puts it in {expected.parent_key}"
            )
    if phases and view.batches[batch_id] != status:
        return f"batch {batch_id} is {status!r}, the journal leaves it {view.batches[batch_id]!r}"
    return None


def _states_around_journal(
    conn: Connection, batch_id: int
) -> tuple[dict[int, CodeState], dict[int, CodeState]]:
    """Per code id: its state before the journal first changed it, and, where another writer
    changed it after the journal's last change, the state that writer found."""
    tag = f"journal {batch_id}/"
    rows: Any = conn.execute(
        select(
            CodeTransition.code_id,
            CodeTransition.from_state,
            CodeTransition.reason,
        )
        .join(Code, CodeTransition.code_id == Code.id)
        .join(Allocation, Code.allocation_id == Allocation.id)
        .where(Allocation.batch_id == batch_id)
        .order_by(CodeTransition.id)
    )
    before: dict[int, CodeState] = {}
    after: dict[int, CodeState] = {}
    for code_id, from_state, reason in rows:
        if reason is not None and reason.startswith(tag):
            before.setdefault(code_id, CodeState(from_state))
            after.pop(code_id, None)
        elif code_id in before:
            after.setdefault(code_id, CodeState(from_state))
    return before, after
