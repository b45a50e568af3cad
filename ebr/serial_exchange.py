"""Serial numbers exchanged with other serial number managers (OPEN-SCS): the store's part.

Serials pushed to the gateway go through `ebr.imports.CodeImporter`, unchanged: a push is an
import. This module holds the rest:

- `SerialHandOut.hand_out` gives Unallocated codes of a product level out of the gateway's pool
  in one transaction (OPEN-SCS `SNRequestUnallocated` → Unassigned here, `SNRequestAllocated` →
  Allocated to no line here): each move is a `code_transitions` row whose reason names the
  request, and the request itself is an audit entry. `page` reads the request's codes back in
  transition order, so paging survives restarts and a page asked twice is the same page.
- `SerialHandOut.take_back` returns Allocated codes a line never used to the pool's owner
  (`SNReturnAllocated`), like `CodeStates.return_unused`.
- `product_levels`, `site_owner` and `code_identities` read what the OPEN-SCS side publishes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, insert, select, update

from ebr.audit.actor import StoreWriter
from ebr.code_states import CodeStates
from ebr.errors import StoreError
from ebr.models import Code, CodeTransition, Product, ProductLevel, SerialPool, Site
from ebr.sql import chunked
from serialization.rules import (
    CodingRule,
    PackagingLevel,
    ProductMaster,
    product_from_dict,
    rule_from_dict,
)
from serialization.states import CodeState

REQUEST_OBJECT = "openscs_request"
HANDED_OUT = "openscs.serials_handed_out"
HAND_OUT_STATES = frozenset({CodeState.UNASSIGNED, CodeState.ALLOCATED})


class SerialExchangeError(StoreError):
    """Codes that cannot be exchanged, each with why; nothing was changed."""

    def __init__(self, message: str, problems: Sequence[tuple[str, str]], *, hint: str) -> None:
        super().__init__(message, hint=hint)
        self.problems = list(problems)


@dataclass(frozen=True, slots=True)
class ProductLevelInfo:
    product: ProductMaster
    level: PackagingLevel
    rule: CodingRule


@dataclass(frozen=True, slots=True)
class CodeIdentity:
    key: str
    serial: str
    data: str | None
    product_id: str
    level: PackagingLevel
    state: CodeState


@dataclass(frozen=True, slots=True)
class HandOutRequest:
    request_id: str
    method: str
    product_id: str
    level: PackagingLevel
    to_state: CodeState
    requested: int
    handed_out: int
    first_transition: int
    last_transition: int
    details: Mapping[str, Any]

    @property
    def reason(self) -> str:
        return transition_reason(self.method, self.request_id)


@dataclass(frozen=True, slots=True)
class HandedCode:
    transition_id: int
    key: str
    serial: str
    data: str | None


def transition_reason(method: str, request_id: str) -> str:
    return f"OPEN-SCS {method} request {request_id}: handed out of this gateway's pool"


class SerialHandOut(StoreWriter):
    def hand_out(
        self,
        *,
        request_id: str,
        method: str,
        product_id: str,
        level: PackagingLevel,
        count: int,
        to_state: CodeState,
        details: Mapping[str, Any],
    ) -> HandOutRequest:
        """Move up to `count` Unallocated codes out of the pool, oldest import first.

        To Unassigned (the requester's pool takes them): codes returned unused go first, then
        fresh ones. To Allocated: fresh ones only, since a code allocated once is never
        allocated again. Imported ranges are not handed out (their serials have no rows yet).
        """
        if to_state not in HAND_OUT_STATES:
            raise StoreError(
                f"codes are handed out as Unassigned or Allocated, not {to_state.label}",
                hint="use SNRequestUnallocated or SNRequestAllocated",
            )
        with self._engine.begin() as conn:
            ids = self._choose(conn, product_id, level, count, to_state)
            request = HandOutRequest(
                request_id, method, product_id, level, to_state, count, len(ids), 0, 0, details
            )
            if not ids:
                return request
            transitions = self._move(conn, ids, to_state, request.reason)
            request = replace(
                request, first_transition=min(transitions), last_transition=max(transitions)
            )
            self._audit.record(
                conn,
                [
                    self._actor.event(
                        HANDED_OUT,
                        REQUEST_OBJECT,
                        request_id,
                        action="modify",
                        new={
                            "method": method,
                            "product_id": product_id,
                            "level": level.value,
                            "to_state": to_state.label,
                            "requested": count,
                            "handed_out": len(ids),
                            "first_transition": request.first_transition,
                            "last_transition": request.last_transition,
                            "details": dict(details),
                        },
                        reason=request.reason,
                    )
                ],
            )
        return request

    def request(self, request_id: str) -> HandOutRequest | None:
        """A request handed out earlier, as its audit entry recorded it."""
        entries = self._audit.entries(
            object_type=REQUEST_OBJECT, object_id=request_id, event=HANDED_OUT, limit=1
        )
        if not entries:
            return None
        new = entries[0].new
        return HandOutRequest(
            request_id=request_id,
            method=new["method"],
            product_id=new["product_id"],
            level=PackagingLevel(new["level"]),
            to_state=CodeState[_state_name(new["to_state"])],
            requested=int(new["requested"]),
            handed_out=int(new["handed_out"]),
            first_transition=int(new["first_transition"]),
            last_transition=int(new["last_transition"]),
            details=new.get("details") or {},
        )

    def page(
        self, request: HandOutRequest, *, after: int, limit: int
    ) -> tuple[list[HandedCode], int | None]:
        """The request's codes after transition `after`, at most `limit`; and where the next
        page starts (None: this was the last)."""
        low = max(after, request.first_transition - 1)
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(CodeTransition.id, Code.key, Code.serial, Code.data)
                .join(Code, Code.id == CodeTransition.code_id)
                .where(
                    CodeTransition.id > low,
                    CodeTransition.id <= request.last_transition,
                    CodeTransition.reason == request.reason,
                )
                .order_by(CodeTransition.id)
                .limit(limit + 1)
            ).all()
        codes = [HandedCode(*row) for row in rows[:limit]]
        more = len(rows) > limit
        return codes, codes[-1].transition_id if more else None

    def take_back(self, keys: Sequence[str], *, reason: str) -> None:
        """Allocated codes of a line that were never sent to a device go back to Unallocated,
        for the pool's owner only (the allocator never hands them out again). All or none."""
        problems: list[tuple[str, str]] = []
        with self._engine.connect() as conn:
            found = {
                row.key: row
                for chunk in chunked(list(dict.fromkeys(keys)))
                for row in conn.execute(
                    select(Code.key, Code.state, Code.allocation_id).where(Code.key.in_(chunk))
                )
            }
        for key in keys:
            row = found.get(key)
            if row is None:
                problems.append((key, "not a code of this gateway"))
            elif row.state != int(CodeState.ALLOCATED):
                problems.append((key, f"is {CodeState(row.state).label}, not Allocated"))
            elif row.allocation_id is None:
                problems.append(
                    (key, "was handed out by an OPEN-SCS request, not allocated to a line here")
                )
        if len(set(keys)) != len(keys):
            problems.append((keys[0], "the same code is returned twice"))
        if problems:
            raise SerialExchangeError(
                f"{len(problems)} of {len(keys)} code(s) cannot be returned; none was",
                problems,
                hint="return only Allocated codes that this gateway allocated to a line "
                "and never printed",
            )
        CodeStates(self._engine, clock=self._clock, audit=self._audit, actor=self._actor).mark(
            keys, CodeState.UNALLOCATED, reason=reason
        )

    def _choose(
        self,
        conn: Connection,
        product_id: str,
        level: PackagingLevel,
        count: int,
        to_state: CodeState,
    ) -> list[int]:
        pools = conn.execute(
            select(SerialPool.id, SerialPool.kind)
            .where(
                SerialPool.product_id == product_id,
                SerialPool.level == level.value,
                SerialPool.kind.in_(("list", "range")),
            )
            .order_by(SerialPool.id)
            .with_for_update()
        ).all()
        ids: list[int] = []
        unallocated = Code.state == int(CodeState.UNALLOCATED)
        if to_state is CodeState.UNASSIGNED and pools:
            ids += conn.execute(
                select(Code.id)
                .where(
                    Code.pool_id.in_([p.id for p in pools]),
                    unallocated,
                    Code.allocation_id.is_not(None),
                )
                .order_by(Code.id)
                .limit(count)
            ).scalars()
        for pool in pools:
            if len(ids) >= count:
                break
            if pool.kind == "list":
                ids += conn.execute(
                    select(Code.id)
                    .where(Code.pool_id == pool.id, unallocated, Code.allocation_id.is_(None))
                    .order_by(Code.id)
                    .limit(count - len(ids))
                ).scalars()
        return ids

    def _move(
        self, conn: Connection, ids: list[int], to_state: CodeState, reason: str
    ) -> list[int]:
        result = conn.execute(
            update(Code)
            .where(Code.id == bindparam("code_id"), Code.state == int(CodeState.UNALLOCATED))
            .values(state=int(to_state)),
            [{"code_id": code_id} for code_id in ids],
        )
        if result.rowcount != len(ids):
            raise StoreError("codes changed state while being handed out", hint="ask again")
        now = self._clock()
        return list(
            conn.execute(
                insert(CodeTransition).returning(CodeTransition.id),
                [
                    {
                        "code_id": code_id,
                        "from_state": int(CodeState.UNALLOCATED),
                        "to_state": int(to_state),
                        "reason": reason,
                        "at": now,
                    }
                    for code_id in ids
                ],
            ).scalars()
        )


def _state_name(label: str) -> str:
    return next(state.name for state in CodeState if state.label == label)


def product_levels(engine: Engine) -> list[ProductLevelInfo]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(Product.master, ProductLevel.level, ProductLevel.rule)
            .join(ProductLevel, ProductLevel.product_id == Product.id)
            .order_by(Product.id, ProductLevel.level)
        ).all()
    return [
        ProductLevelInfo(product_from_dict(master), PackagingLevel(level), rule_from_dict(rule))
        for master, level, rule in rows
    ]


def site_owner(engine: Engine) -> str:
    """The company the site belongs to (OPEN-SCS `SIDClassOwner`); empty before master data."""
    with engine.connect() as conn:
        name = conn.execute(select(Site.company_name).order_by(Site.id).limit(1)).scalar()
    return name or ""


def code_identities(engine: Engine, keys: Sequence[str]) -> dict[str, CodeIdentity]:
    result: dict[str, CodeIdentity] = {}
    with engine.connect() as conn:
        for chunk in chunked(list(dict.fromkeys(keys))):
            for row in conn.execute(
                select(
                    Code.key,
                    Code.serial,
                    Code.data,
                    SerialPool.product_id,
                    SerialPool.level,
                    Code.state,
                )
                .join(SerialPool, SerialPool.id == Code.pool_id)
                .where(Code.key.in_(chunk))
            ):
                result[row.key] = CodeIdentity(
                    row.key,
                    row.serial,
                    row.data,
                    row.product_id,
                    PackagingLevel(row.level),
                    CodeState(row.state),
                )
    return result
