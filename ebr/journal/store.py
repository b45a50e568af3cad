"""The journal: events validated, hash-chained, written and applied in one transaction.

Each `append_many` call is one transaction: one SELECT for every code the events name, the
events checked in order against the state as the events before them leave it, then the legal
ones inserted, their state changes written to `codes`, `code_transitions` and `batches`, and
one audit entry per batch that anchors the journal's new head in the audit trail. An illegal
event is not written; its slot in the result holds the error.

The last seq and hash of each batch are kept in memory, read from the database the first time;
when a transaction fails they are dropped and read again, so the chain never forks.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, insert, select, text, update
from sqlalchemy.orm import aliased

from ebr.audit.actor import GATEWAY, Actor, StoreWriter, utc_now
from ebr.audit.chain import CanonicalJsonError, canonical_json, plain
from ebr.audit.trail import AuditEvent, AuditTrail
from ebr.journal.chain import GENESIS, as_utc, event_hash
from ebr.journal.effects import CodeRow, CodeView, plan
from ebr.journal.events import EventKind, JournalEntry, JournalEvent, JournalRejectedError
from ebr.journal.hooks import CommitHook
from ebr.models import Allocation, Batch, Code, CodeTransition, JournalEventRow
from ebr.sql import chunked
from serialization.states import CodeState

PAGE = 1000
ORDER_LOCK = 0x7472_6163_656A_6E6C
"""PostgreSQL advisory lock every journal transaction takes first, so that `journal_events.id`
order is commit order: a reader paging by id never passes an id that commits later."""
JOURNAL = JournalEventRow.__table__
_PARENT_STATES = (
    int(CodeState.COMMISSIONED),
    int(CodeState.SAMPLED),
    int(CodeState.INACTIVE),
    int(CodeState.RELEASED),
)


class Journal(StoreWriter):
    """Synchronous; each append_many call is one transaction."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], datetime] = utc_now,
        audit: AuditTrail | None = None,
        actor: Actor = GATEWAY,
        anchor_every_s: float = 0.0,
        hook: CommitHook | None = None,
    ) -> None:
        """`anchor_every_s`: how often a batch's new head is anchored in the audit trail; 0
        anchors every commit. A running line anchors once a second (and at every phase
        change): the journal is hash-chained itself, and three audit statements per commit
        would double the commit's work on the verdict path.

        `hook` writes what the new entries cause (the outbox's upward messages) in the same
        transaction."""
        super().__init__(engine, clock=clock, audit=audit, actor=actor)
        self._hook = hook
        self._heads: dict[int, tuple[int, str]] = {}
        self._lock = threading.Lock()
        self._anchor_every_s = anchor_every_s
        self._anchored_at: dict[int, float] = {}
        self._unanchored_from: dict[int, int] = {}

    @property
    def engine(self) -> Engine:
        return self._engine

    def append_many(
        self, events: Sequence[JournalEvent]
    ) -> list[JournalEntry | JournalRejectedError]:
        """Write the legal events of `events`, in order, in one transaction.

        Each event is checked against the state as the events before it in the same call leave
        it. The result has one slot per event: its entry, or the error that kept it out.
        """
        if not events:
            return []
        with self._lock:
            try:
                return self._append(events)
            except BaseException:
                self._heads.clear()
                self._anchored_at.clear()
                self._unanchored_from.clear()
                if self._hook is not None:
                    self._hook.discard()
                raise

    def entries(self, batch_id: int, *, after_seq: int = 0) -> Iterator[JournalEntry]:
        """The batch's entries after `after_seq`, in order (read in pages)."""
        last = after_seq
        while True:
            with self._engine.connect() as conn:
                rows = conn.execute(
                    select(JOURNAL)
                    .where(JournalEventRow.batch_id == batch_id, JournalEventRow.seq > last)
                    .order_by(JournalEventRow.seq)
                    .limit(PAGE)
                ).all()
            for row in rows:
                yield _entry(row)
            if len(rows) < PAGE:
                return
            last = rows[-1].seq

    def last_seq(self, batch_id: int) -> int:
        with self._engine.connect() as conn:
            return _read_head(conn, batch_id)[0]

    def _append(self, events: Sequence[JournalEvent]) -> list[JournalEntry | JournalRejectedError]:
        results: list[JournalEntry | JournalRejectedError] = []
        rows: list[dict[str, Any]] = []
        heads: dict[int, tuple[int, str]] = {}
        first_seq: dict[int, int] = {}
        with self._engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ORDER_LOCK})
            view = _load_view(conn, events)
            at = as_utc(self._clock())
            for raw in events:
                try:
                    event, data = _checked(raw)
                    effects = plan(event, view)
                except JournalRejectedError as error:
                    results.append(error)
                    continue
                batch = event.batch_id
                if batch not in heads:
                    heads[batch] = self._heads.get(batch) or _read_head(conn, batch)
                    first_seq[batch] = heads[batch][0] + 1
                seq, prev = heads[batch][0] + 1, heads[batch][1]
                digest = event_hash(
                    batch_id=batch,
                    seq=seq,
                    at=at,
                    kind=event.kind.value,
                    unit_ref=event.unit_ref,
                    code_key=event.code_key,
                    data=data,
                    prev_hash=prev,
                )
                view.apply(effects, f"journal {batch}/{seq}: {event.kind.value}")
                heads[batch] = (seq, digest)
                rows.append(
                    {
                        "batch_id": batch,
                        "seq": seq,
                        "at": at,
                        "kind": event.kind.value,
                        "unit_ref": event.unit_ref,
                        "code_key": event.code_key,
                        "data": canonical_json(data),
                        "prev_hash": prev,
                        "hash": digest,
                    }
                )
                results.append(JournalEntry(event, seq, at, prev, digest))
            if rows:
                written = [r for r in results if isinstance(r, JournalEntry)]
                self._write(conn, view, rows, at, heads, first_seq, written)
        self._heads.update(heads)
        return results

    def _write(
        self,
        conn: Connection,
        view: CodeView,
        rows: list[dict[str, Any]],
        at: datetime,
        heads: Mapping[int, tuple[int, str]],
        first_seq: Mapping[int, int],
        written: Sequence[JournalEntry],
    ) -> None:
        conn.execute(insert(JournalEventRow), rows)
        if self._hook is not None:
            self._hook.on_commit(conn, written)
        if view.changed_codes:
            conn.execute(
                _UPDATE_CODES,
                [
                    {"code_id": row.id, "new_state": int(row.state), "new_parent": row.parent_id}
                    for row in view.changed_codes.values()
                ],
            )
        if view.changes:
            conn.execute(
                insert(CodeTransition),
                [
                    {
                        "code_id": change.code_id,
                        "from_state": int(change.from_state),
                        "to_state": int(change.to_state),
                        "reason": change.reason,
                        "at": at,
                    }
                    for change in view.changes
                ],
            )
        if view.changed_batches:
            conn.execute(
                _UPDATE_BATCHES,
                [{"batch": b, "new_status": s} for b, s in view.changed_batches.items()],
            )
        anchors = self._audit_events(written, heads, first_seq)
        if anchors:
            self._audit.record(conn, anchors)

    def _audit_events(
        self,
        written: Sequence[JournalEntry],
        heads: Mapping[int, tuple[int, str]],
        first_seq: Mapping[int, int],
    ) -> list[AuditEvent]:
        audit = [
            _phase_audit(entry.event, self._actor)
            for entry in written
            if entry.event.kind is EventKind.BATCH_PHASE
        ]
        audit += [
            _recall_audit(entry, self._actor)
            for entry in written
            if entry.event.kind is EventKind.CODES_RECALLED
        ]
        phased = {e.event.batch_id for e in written if e.event.kind is EventKind.BATCH_PHASE}
        now = time.monotonic()
        for batch, (seq, digest) in sorted(heads.items()):
            start = self._unanchored_from.setdefault(batch, first_seq[batch])
            last = self._anchored_at.get(batch)
            due = last is None or now - last >= self._anchor_every_s or batch in phased
            if not due:
                continue
            self._anchored_at[batch] = now
            del self._unanchored_from[batch]
            audit.append(
                self._actor.event(
                    "journal.appended",
                    "batch",
                    batch,
                    new={"first_seq": start, "last_seq": seq, "head": digest},
                )
            )
        return audit


def _phase_audit(event: JournalEvent, actor: Actor) -> AuditEvent:
    reason = event.data.get("reason")
    user = event.data.get("user")
    return AuditEvent(
        "batch.phase_changed",
        "batch",
        str(event.batch_id),
        action="modify" if isinstance(reason, str) and reason.strip() else "system",
        old={"status": event.data.get("from")},
        new={"status": event.data.get("to")},
        reason=reason if isinstance(reason, str) else None,
        user_id=actor.user_id,
        username=user if isinstance(user, str) else actor.username,
    )


def _recall_audit(entry: JournalEntry, actor: Actor) -> AuditEvent:
    """A recall in the audit trail: who, why, how many codes and where the journal lists them."""
    data = entry.event.data
    keys = data.get("keys")
    return actor.event(
        "codes.recalled",
        "batch",
        entry.event.batch_id,
        action="modify",
        new={
            "codes": len(keys) if isinstance(keys, list | tuple) else 0,
            "scope": data.get("scope"),
            "journal_seq": entry.seq,
            "journal_hash": entry.hash,
        },
        reason=str(data.get("reason")),
    )


def _checked(event: JournalEvent) -> tuple[JournalEvent, Any]:
    """The event with its kind as an `EventKind`, and its data as plain JSON values."""
    try:
        kind = EventKind(event.kind)
    except ValueError:
        raise JournalRejectedError(
            event,
            f"unknown event kind {event.kind!r}",
            hint=f"use one of {', '.join(k.value for k in EventKind)}",
        ) from None
    if kind is not event.kind:
        event = dataclasses.replace(event, kind=kind)
    if not isinstance(event.data, Mapping):
        raise JournalRejectedError(event, "data must be a mapping", hint="pass a dict")
    try:
        data = plain(dict(event.data))
        canonical_json(data)
    except CanonicalJsonError as error:
        raise JournalRejectedError(
            event, f"data has no canonical JSON form: {error}", hint="pass plain JSON values"
        ) from None
    return event, data


def _named_keys(events: Sequence[JournalEvent]) -> tuple[set[str], set[str]]:
    """Every key the events name, and those that may be aggregates whose children matter."""
    named: set[str] = set()
    parents: set[str] = set()
    for event in events:
        if event.code_key is not None:
            named.add(event.code_key)
            parents.add(event.code_key)
        data = event.data if isinstance(event.data, Mapping) else {}
        for name in ("keys", "children"):
            values = data.get(name)
            if isinstance(values, list | tuple):
                named.update(value for value in values if isinstance(value, str))
        for name in ("child", "old"):
            value = data.get(name)
            if isinstance(value, str):
                named.add(value)
                if name == "old":
                    parents.add(value)
    return named, parents


_PARENT = aliased(Code)
_CODE_QUERY = (
    select(Code.id, Code.key, Code.state, Allocation.batch_id, Code.parent_id, _PARENT.key)
    .select_from(Code)
    .outerjoin(Allocation, Code.allocation_id == Allocation.id)
    .outerjoin(_PARENT, Code.parent_id == _PARENT.id)
)
_UPDATE_CODES = (
    update(Code)
    .where(Code.id == bindparam("code_id"))
    .values(state=bindparam("new_state"), parent_id=bindparam("new_parent"))
)
_UPDATE_BATCHES = (
    update(Batch).where(Batch.id == bindparam("batch")).values(status=bindparam("new_status"))
)


def code_rows(conn: Connection, where: Any, *, lock: bool = False) -> list[CodeRow]:
    """Codes with their batch and current parent, as the journal's rules see them."""
    query = _CODE_QUERY.where(where)
    if lock:
        query = query.with_for_update(of=Code)
    return [
        CodeRow(code_id, key, CodeState(state), batch_id, parent_id, parent_key)
        for code_id, key, state, batch_id, parent_id, parent_key in conn.execute(query)
    ]


def _load_view(conn: Connection, events: Sequence[JournalEvent]) -> CodeView:
    batch_ids = sorted({event.batch_id for event in events if isinstance(event.batch_id, int)})
    batches = {
        int(batch_id): str(status)
        for batch_id, status in conn.execute(
            select(Batch.id, Batch.status).where(Batch.id.in_(batch_ids)).with_for_update()
        )
    }
    named, parents = _named_keys(events)
    rows: dict[str, CodeRow] = {}
    for chunk in chunked(sorted(named)):
        rows.update((row.key, row) for row in code_rows(conn, Code.key.in_(chunk), lock=True))
    aggregates = [
        row.id for key, row in rows.items() if key in parents and row.state in _PARENT_STATES
    ]
    for ids in chunked(aggregates):
        for row in code_rows(conn, Code.parent_id.in_(ids), lock=True):
            rows.setdefault(row.key, row)
    return CodeView.of(rows.values(), batches)


def read_entries(
    conn: Connection, batch_id: int, *, after_seq: int = 0, before_seq: int | None = None
) -> Iterator[JournalEntry]:
    """The batch's entries between the two seqs (exclusive), in order, through `conn`: inside
    a transaction this sees what the transaction wrote."""
    last = after_seq
    while True:
        query = select(JOURNAL).where(JournalEventRow.batch_id == batch_id)
        query = query.where(JournalEventRow.seq > last)
        if before_seq is not None:
            query = query.where(JournalEventRow.seq < before_seq)
        rows = conn.execute(query.order_by(JournalEventRow.seq).limit(PAGE)).all()
        yield from (_entry(row) for row in rows)
        if len(rows) < PAGE:
            return
        last = rows[-1].seq


def _read_head(conn: Connection, batch_id: int) -> tuple[int, str]:
    row = conn.execute(
        select(JournalEventRow.seq, JournalEventRow.hash)
        .where(JournalEventRow.batch_id == batch_id)
        .order_by(JournalEventRow.seq.desc())
        .limit(1)
    ).first()
    return (0, GENESIS) if row is None else (int(row.seq), str(row.hash))


def _entry(row: Any) -> JournalEntry:
    event = JournalEvent(
        batch_id=row.batch_id,
        kind=EventKind(row.kind),
        unit_ref=row.unit_ref,
        code_key=row.code_key,
        data=json.loads(row.data),
    )
    return JournalEntry(event, row.seq, as_utc(row.at), row.prev_hash, row.hash)
