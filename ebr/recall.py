"""Recall marking (R-RISK-1): a batch, or a set of codes with everything packed in them,
marked recalled by a named QA person or supervisor, with a reason.

A recall is journal events of kind `codes.recalled`, written in one transaction with the audit
trail's `codes.recalled` entries: each saleable code (Commissioned or Released) becomes
Inactive and keeps its place in its case and pallet, so the recall finds it where it is.
Inactive is what recalled means in this gateway: nothing else makes a code Inactive, and the
journal refuses every later event on it except destruction (a recalled unit returned and
destroyed). OPC 30260 has no move from Inactive to Released, so a recalled code can never be
released or shipped again. Codes that are no product on the market stay as they are (sampled,
destroyed, rejected, voided, never printed) and are reported as unchanged; codes recalled
before are reported as already recalled, so repeating a recall changes nothing.

A recall is refused, writing nothing, while the batch is still in production (its line is the
only writer of its journal until the batch is reconciled), for an unknown code, without a
reason, or for a user who is neither QA nor supervisor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, Engine, select

from ebr.audit.actor import Actor, utc_now
from ebr.audit.trail import AuditTrail
from ebr.errors import NotFoundError, StoreError
from ebr.journal import EventKind, Journal, JournalEntry, JournalEvent, JournalRejectedError
from ebr.models import Allocation, Batch, Code
from ebr.records import MAX_TREE_DEPTH
from ebr.sql import chunked
from ebr.users import PermissionDeniedError, Role, Session
from serialization.lifecycle import BatchPhase
from serialization.states import CodeState

RECALL_ROLES: Final = frozenset({Role.QA, Role.SUPERVISOR})
RECALLABLE_PHASES: Final = frozenset(
    {BatchPhase.RECONCILED.value, BatchPhase.RELEASED.value, BatchPhase.REJECTED.value}
)
RECALLABLE_STATES: Final = frozenset({CodeState.COMMISSIONED, CodeState.RELEASED})
MAX_KEYS_PER_EVENT: Final = 10_000
"""A batch's recall is split into journal events of at most this many codes (one transaction)."""
MAX_REASON_LENGTH: Final = 500


class RecallError(StoreError):
    """A recall that was refused; nothing was written unless the message says otherwise."""


class RecallConflictError(RecallError):
    """The records' state forbids the recall now (a batch in production, a concurrent change)."""


class Scope:
    BATCH: Final = "batch"
    CODES: Final = "codes"


@dataclass(frozen=True, slots=True)
class RecallOutcome:
    recalled: list[str] = field(default_factory=list)
    """Keys that became Inactive now."""
    already_recalled: list[str] = field(default_factory=list)
    unchanged: dict[str, str] = field(default_factory=dict)
    """Key → state of the codes that are no product on the market and stay as they are."""
    entries: list[tuple[int, int]] = field(default_factory=list)
    """(batch id, journal seq) of each `codes.recalled` event written."""


@dataclass(frozen=True, slots=True)
class _Row:
    id: int
    key: str
    state: CodeState
    batch_id: int | None


def recall_batch(
    engine: Engine,
    user: Session,
    batch_id: int,
    *,
    reason: str,
    audit: AuditTrail | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> RecallOutcome:
    """Mark every saleable unit, case and pallet of the batch recalled."""
    why = _checked(user, reason)
    with engine.connect() as conn:
        _check_batches(conn, [batch_id])
        rows = _rows(conn, Allocation.batch_id == batch_id)
    return _recall(engine, user, rows, why, Scope.BATCH, audit, clock)


def recall_codes(
    engine: Engine,
    user: Session,
    keys: Sequence[str],
    *,
    reason: str,
    audit: AuditTrail | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> RecallOutcome:
    """Mark the codes recalled, and everything packed in them (a pallet's cases and units)."""
    why = _checked(user, reason)
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        raise RecallError("no codes to recall", hint="name at least one code, or recall a batch")
    with engine.connect() as conn:
        found: dict[str, _Row] = {}
        for chunk in chunked(wanted):
            found.update((row.key, row) for row in _rows(conn, Code.key.in_(chunk)))
        unknown = [key for key in wanted if key not in found]
        if unknown:
            shown = ", ".join(unknown[:10]) + (" …" if len(unknown) > 10 else "")
            raise NotFoundError(
                f"{len(unknown)} of the {len(wanted)} codes are not known to this site: {shown}",
                hint="recall only codes this site issued; nothing was recalled",
            )
        unallocated = [row.key for row in found.values() if row.batch_id is None]
        if unallocated:
            raise RecallError(
                f"codes {', '.join(unallocated[:10])} were never allocated to a batch",
                hint="a code never used on a product needs no recall; remove it from the list",
            )
        _check_batches(conn, sorted({row.batch_id for row in found.values() if row.batch_id}))
        rows = [*found.values(), *_descendants(conn, [row.id for row in found.values()])]
    return _recall(engine, user, rows, why, Scope.CODES, audit, clock)


def _checked(user: Session, reason: str) -> str:
    if user.role not in RECALL_ROLES:
        raise PermissionDeniedError(
            f"{user.username} is {user.role.value}; only QA or a supervisor may recall",
            hint="ask a QA person or a supervisor to mark the recall",
        )
    why = reason.strip()
    if not why:
        raise RecallError("a recall needs a reason", hint="say why the codes are recalled")
    if any(ord(char) < 32 and char not in "\t\n" for char in why):
        raise RecallError(
            "the reason holds control characters",
            hint="give the reason as plain text (lines and tabs are fine)",
        )
    if len(why) > MAX_REASON_LENGTH:
        raise RecallError(
            f"the reason is {len(why)} characters long, more than {MAX_REASON_LENGTH}",
            hint="give the reason in short and the details in the recall's own documents",
        )
    return why


def _check_batches(conn: Connection, batch_ids: Iterable[int]) -> None:
    ids = list(batch_ids)
    found = {
        row.id: row
        for row in conn.execute(select(Batch.id, Batch.lot, Batch.status).where(Batch.id.in_(ids)))
    }
    for batch_id in ids:
        row = found.get(batch_id)
        if row is None:
            raise NotFoundError(f"unknown batch {batch_id}", hint="check the batch id")
        if row.status not in RECALLABLE_PHASES:
            raise RecallConflictError(
                f"batch {batch_id} (lot {row.lot}) is {row.status}: a recall marks codes of a "
                "batch whose production is over (reconciled, released or rejected)",
                hint="complete and reconcile the batch first; to stop its product now, hold "
                "the batch",
            )


def _rows(conn: Connection, where: Any) -> list[_Row]:
    return [
        _Row(code_id, key, CodeState(state), batch_id)
        for code_id, key, state, batch_id in conn.execute(
            select(Code.id, Code.key, Code.state, Allocation.batch_id)
            .outerjoin(Allocation, Code.allocation_id == Allocation.id)
            .where(where)
        )
    ]


def _descendants(conn: Connection, ids: list[int]) -> list[_Row]:
    rows: list[_Row] = []
    seen = set(ids)
    level = ids
    for _depth in range(MAX_TREE_DEPTH):
        children = [
            row
            for chunk in chunked(level)
            for row in _rows(conn, Code.parent_id.in_(chunk))
            if row.id not in seen
        ]
        if not children:
            break
        seen.update(row.id for row in children)
        rows.extend(children)
        level = [row.id for row in children]
    return rows


def _recall(
    engine: Engine,
    user: Session,
    rows: list[_Row],
    reason: str,
    scope: str,
    audit: AuditTrail | None,
    clock: Callable[[], datetime],
) -> RecallOutcome:
    by_batch: dict[int, list[str]] = {}
    outcome = RecallOutcome()
    for row in sorted(rows, key=lambda row: row.key):
        if row.state in RECALLABLE_STATES and row.batch_id is not None:
            by_batch.setdefault(row.batch_id, []).append(row.key)
        elif row.state is CodeState.INACTIVE:
            outcome.already_recalled.append(row.key)
        else:
            outcome.unchanged[row.key] = row.state.label
    events = [
        JournalEvent(
            batch_id,
            EventKind.CODES_RECALLED,
            data={"keys": chunk, "reason": reason, "user": user.username, "scope": scope},
        )
        for batch_id, keys in sorted(by_batch.items())
        for chunk in chunked(keys, MAX_KEYS_PER_EVENT)
    ]
    if not events:
        return outcome
    journal = Journal(engine, clock=clock, audit=audit, actor=Actor(user.user_id, user.username))
    results = journal.append_many(events)
    refused = [result for result in results if isinstance(result, JournalRejectedError)]
    written = [result for result in results if isinstance(result, JournalEntry)]
    for entry in written:
        outcome.recalled.extend(entry.event.data["keys"])
        outcome.entries.append((entry.event.batch_id, entry.seq))
    if refused:
        raise RecallConflictError(
            f"{len(outcome.recalled)} codes were recalled, but the journal refused the rest: "
            f"{refused[0]}",
            hint="another writer changed the codes meanwhile; trace them and repeat the recall "
            "(codes already recalled are left as they are)",
        )
    return outcome
