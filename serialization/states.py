"""The life of one code, as one transition table.

State names and numbers are those of OPC 30260 (OPEN-SCS) `OPENSCSSerialNumberStateEnum`, so
the numbers stored in the database are the numbers an OPEN-SCS client expects.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final

from serialization.errors import IllegalTransitionError


class CodeState(IntEnum):
    UNASSIGNED = 0
    UNALLOCATED = 1
    ALLOCATED = 2
    SN_INVALID = 3
    ENCODED = 4
    LABEL_SAMPLED = 5
    LABEL_SCRAPPED = 6
    COMMISSIONED = 7
    SAMPLED = 8
    INACTIVE = 9
    DESTROYED = 10
    RELEASED = 11

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS: Final = {
    CodeState.UNASSIGNED: "Unassigned",
    CodeState.UNALLOCATED: "Unallocated",
    CodeState.ALLOCATED: "Allocated",
    CodeState.SN_INVALID: "SNInvalid",
    CodeState.ENCODED: "Encoded",
    CodeState.LABEL_SAMPLED: "LabelSampled",
    CodeState.LABEL_SCRAPPED: "LabelScrapped",
    CodeState.COMMISSIONED: "Commissioned",
    CodeState.SAMPLED: "Sampled",
    CodeState.INACTIVE: "Inactive",
    CodeState.DESTROYED: "Destroyed",
    CodeState.RELEASED: "Released",
}

S = CodeState

#: Every legal move. A code returned from Allocated goes back to Unallocated only to be handed
#: back to the pool's owner: the allocator never hands out a code that was allocated before.
TRANSITIONS: Final[dict[CodeState, frozenset[CodeState]]] = {
    S.UNASSIGNED: frozenset({S.UNALLOCATED, S.SN_INVALID}),
    S.UNALLOCATED: frozenset({S.ALLOCATED, S.UNASSIGNED, S.SN_INVALID}),
    S.ALLOCATED: frozenset({S.ENCODED, S.UNALLOCATED, S.SN_INVALID}),
    S.ENCODED: frozenset({S.COMMISSIONED, S.LABEL_SAMPLED, S.LABEL_SCRAPPED, S.SN_INVALID}),
    S.COMMISSIONED: frozenset({S.SAMPLED, S.INACTIVE, S.DESTROYED, S.RELEASED}),
    S.SAMPLED: frozenset({S.DESTROYED, S.INACTIVE}),
    S.INACTIVE: frozenset({S.COMMISSIONED, S.DESTROYED}),
    S.RELEASED: frozenset({S.INACTIVE, S.DESTROYED}),
    S.LABEL_SAMPLED: frozenset(),
    S.LABEL_SCRAPPED: frozenset(),
    S.DESTROYED: frozenset(),
    S.SN_INVALID: frozenset(),
}

TERMINAL: Final = frozenset(state for state, targets in TRANSITIONS.items() if not targets)


def can_transition(old: CodeState, new: CodeState) -> bool:
    return new in TRANSITIONS[old]


def sources_of(new: CodeState) -> frozenset[CodeState]:
    """Every state from which `new` can be reached in one move."""
    return frozenset(old for old, targets in TRANSITIONS.items() if new in targets)


def transition(old: CodeState, new: CodeState, *, code: str | None = None) -> CodeState:
    """Return `new` if the move is legal, else raise `IllegalTransitionError`."""
    if new in TRANSITIONS[old]:
        return new
    allowed = ", ".join(s.label for s in sorted(TRANSITIONS[old])) or "none (final state)"
    raise IllegalTransitionError(
        f"cannot move from {old.label} to {new.label}",
        field=code,
        hint=f"from {old.label} a code may move to: {allowed}",
    )
