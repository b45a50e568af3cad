"""State changes of allocated codes, checked against the one transition table.

Every change of a call is validated before anything is written, and written in one
transaction, so a call with one illegal move changes nothing (bad input loses nothing and
half-does nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, insert, select, update

from ebr.audit.actor import StoreWriter
from ebr.errors import NotFoundError
from ebr.models import Allocation, Code, CodeTransition, SerialPool
from ebr.sql import chunked
from serialization.errors import IllegalTransitionError
from serialization.states import CodeState, transition

RESTART_REASON = "allocated before a restart and not confirmed printed: never handed out again"


@dataclass(frozen=True, slots=True)
class CodeStatus:
    key: str
    state: CodeState
    batch_id: int | None
    line_id: str | None


class CodeStates(StoreWriter):
    def mark(self, keys: Sequence[str], new_state: CodeState, *, reason: str | None = None) -> None:
        """Move every code in `keys` to `new_state`, or none of them."""
        with self._engine.begin() as conn:
            self._move(conn, keys, new_state, reason)

    def return_unused(self, keys: Sequence[str], *, reason: str) -> None:
        """Give back Allocated codes never sent to a device, for the pool's owner (OPEN-SCS
        SNReturnAllocated). This gateway never allocates them again."""
        self.mark(keys, CodeState.UNALLOCATED, reason=reason)

    def invalidate(self, keys: Sequence[str], *, reason: str) -> None:
        self.mark(keys, CodeState.SN_INVALID, reason=reason)

    def statuses(self, keys: Sequence[str]) -> dict[str, CodeStatus]:
        with self._engine.connect() as conn:
            return _statuses(conn, keys)

    def unconfirmed(self, line_id: str) -> list[str]:
        """Keys still Allocated to the line: after a crash, nobody knows if they were printed."""
        with self._engine.connect() as conn:
            return _unconfirmed(conn, line_id)

    def reconcile_after_restart(self, line_id: str, *, seen: Sequence[str] = ()) -> list[str]:
        """Resolve the line's unconfirmed codes: those the camera saw become Encoded, the rest
        SNInvalid. Returns the keys invalidated.

        It first takes every serial pool's lock, which an allocation holds until it commits: on
        PostgreSQL a killed gateway's last transaction may still be committing in its orphaned
        server process, and its codes must be seen here, not appear after.
        """
        with self._engine.begin() as conn:
            conn.execute(select(SerialPool.id).with_for_update()).all()
            pending = _unconfirmed(conn, line_id)
            seen_set = set(seen) & set(pending)
            invalid = [key for key in pending if key not in seen_set]
            if seen_set:
                self._move(
                    conn, sorted(seen_set), CodeState.ENCODED, "seen by the camera before a restart"
                )
            if invalid:
                self._move(conn, invalid, CodeState.SN_INVALID, RESTART_REASON)
        return invalid

    def _move(
        self, conn: Connection, keys: Sequence[str], new_state: CodeState, reason: str | None
    ) -> None:
        if len(set(keys)) != len(keys):
            raise IllegalTransitionError(
                "the same code is named twice in one state change", hint="name each code once"
            )
        rows = codes_by_key(conn, keys)
        missing = [key for key in keys if key not in rows]
        if missing:
            raise NotFoundError(
                f"{len(missing)} unknown code(s), first {missing[0]!r}",
                hint="only codes allocated by this gateway can change state",
            )
        for key in keys:
            transition(CodeState(rows[key][1]), new_state, code=key)
        now = self._clock()
        params = [
            {"code_id": rows[key][0], "old": rows[key][1], "new": int(new_state)} for key in keys
        ]
        result = conn.execute(
            update(Code)
            .where(Code.id == bindparam("code_id"), Code.state == bindparam("old"))
            .values(state=bindparam("new")),
            params,
        )
        if result.rowcount != len(keys):
            raise IllegalTransitionError(
                "codes changed state while being moved", hint="read their state and try again"
            )
        before: dict[str, int] = {}
        for key in keys:
            label = CodeState(rows[key][1]).label
            before[label] = before.get(label, 0) + 1
        self._audit.record(
            conn,
            [
                self._actor.event(
                    "codes.state_changed",
                    "code" if len(keys) == 1 else "codes",
                    keys[0] if len(keys) == 1 else f"{keys[0]} (+{len(keys) - 1})",
                    action="modify" if reason else "system",
                    old={"states": before},
                    new={"state": new_state.label, "count": len(keys), "keys": list(keys[:100])},
                    reason=reason,
                )
            ],
        )
        conn.execute(
            insert(CodeTransition),
            [
                {
                    "code_id": p["code_id"],
                    "from_state": p["old"],
                    "to_state": p["new"],
                    "reason": reason,
                    "at": now,
                }
                for p in params
            ],
        )


def _unconfirmed(conn: Connection, line_id: str) -> list[str]:
    return list(
        conn.execute(
            select(Code.key)
            .join(Allocation, Code.allocation_id == Allocation.id)
            .where(Allocation.line_id == line_id, Code.state == int(CodeState.ALLOCATED))
            .order_by(Code.id)
        ).scalars()
    )


def codes_by_key(conn: Connection, keys: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Id and state of each stored code among `keys`; keys not stored are absent."""
    found: dict[str, tuple[int, int]] = {}
    for chunk in chunked(keys):
        for key, code_id, state in conn.execute(
            select(Code.key, Code.id, Code.state).where(Code.key.in_(chunk))
        ):
            found[key] = (code_id, state)
    return found


def _statuses(conn: Connection, keys: Sequence[str]) -> dict[str, CodeStatus]:
    found: dict[str, CodeStatus] = {}
    for chunk in chunked(keys):
        query = (
            select(Code.key, Code.state, Allocation.batch_id, Allocation.line_id)
            .outerjoin(Allocation, Code.allocation_id == Allocation.id)
            .where(Code.key.in_(chunk))
        )
        for key, state, batch_id, line_id in conn.execute(query):
            found[key] = CodeStatus(key, CodeState(state), batch_id, line_id)
    return found


__all__ = ["RESTART_REASON", "CodeStates", "CodeStatus", "codes_by_key"]
