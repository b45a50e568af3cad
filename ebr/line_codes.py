"""The codes one batch received on one line, by state: what the line runtime starts from.

After a restart the runtime rebuilds its picture of the batch from here (which codes are
commissioned, rejected, voided) and finds the codes a killed gateway left unconfirmed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import aliased

from ebr.models import Allocation, Batch, Code
from serialization.rules import PackagingLevel
from serialization.states import CodeState


def _on_line(batch_id: int, line_id: str, level: PackagingLevel) -> tuple[Any, ...]:
    """Where-clauses for the codes allocated to `line_id` for the batch at `level` (the query
    joins `allocations`)."""
    return (
        Allocation.batch_id == batch_id,
        Allocation.line_id == line_id,
        Allocation.level == level.value,
    )


def batch_code_states(
    engine: Engine, batch_id: int, *, line_id: str, level: PackagingLevel = PackagingLevel.UNIT
) -> dict[str, CodeState]:
    """Every code allocated to `line_id` for the batch at `level`, with its current state."""
    query = (
        select(Code.key, Code.state)
        .join(Allocation, Code.allocation_id == Allocation.id)
        .where(*_on_line(batch_id, line_id, level))
    )
    with engine.connect() as conn:
        return {key: CodeState(state) for key, state in conn.execute(query)}


def keys_in(states: dict[str, CodeState], wanted: Iterable[CodeState]) -> list[str]:
    chosen = frozenset(wanted)
    return sorted(key for key, state in states.items() if state in chosen)


def batch_status(engine: Engine, batch_id: int) -> str:
    with engine.connect() as conn:
        status = conn.execute(select(Batch.status).where(Batch.id == batch_id)).scalar_one()
    return str(status)


def unpacked_codes(
    engine: Engine, batch_id: int, *, line_id: str, level: PackagingLevel
) -> list[str]:
    """Commissioned codes of the batch at `level` not packed into a parent yet, oldest first:
    what the case (or pallet) station was still waiting for when the gateway stopped."""
    query = (
        select(Code.key)
        .join(Allocation, Code.allocation_id == Allocation.id)
        .where(
            *_on_line(batch_id, line_id, level),
            Code.state == int(CodeState.COMMISSIONED),
            Code.parent_id.is_(None),
        )
        .order_by(Code.id)
    )
    with engine.connect() as conn:
        return list(conn.execute(query).scalars())


@dataclass(frozen=True, slots=True)
class CodeInfo:
    key: str
    batch_id: int | None
    level: str | None
    state: CodeState
    parent_key: str | None


def code_info(engine: Engine, key: str) -> CodeInfo | None:
    """Where a code belongs (batch, level), its state and the parent it is packed in."""
    parent = aliased(Code)
    query = (
        select(Code.key, Allocation.batch_id, Allocation.level, Code.state, parent.key)
        .outerjoin(Allocation, Code.allocation_id == Allocation.id)
        .outerjoin(parent, Code.parent_id == parent.id)
        .where(Code.key == key)
    )
    with engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        return None
    return CodeInfo(row[0], row[1], row[2], CodeState(row[3]), row[4])


def live_code_count(
    engine: Engine, batch_id: int, *, line_id: str, level: PackagingLevel = PackagingLevel.UNIT
) -> int:
    """How many of the batch's codes on the line are not voided (one cheap COUNT)."""
    query = (
        select(func.count())
        .select_from(Code)
        .join(Allocation, Code.allocation_id == Allocation.id)
        .where(*_on_line(batch_id, line_id, level), Code.state != int(CodeState.SN_INVALID))
    )
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())
