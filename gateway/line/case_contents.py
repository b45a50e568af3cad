"""Does a closed case hold what it should? The case-camera mode's rules on the codes read in it.

Every code read must be a unit code of this batch and product that was accepted and is waiting
to be packed — not rejected, sampled, destroyed, nor already in a case — each read once, and
the case must hold `units_per_case` of them (fewer only for the partial case at batch end),
with no symbol left unreadable. Then the case is recorded with exactly those units; otherwise
it is not recorded and the finding names what was wrong. Pure: the runtime reads the frame and
says where each code read stands.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from drivers.camera.vision import ContentsCode

SHOWN_AT_MOST = 12


@dataclass(frozen=True, slots=True)
class CaseFinding:
    number: int
    children: tuple[str, ...]
    """The units to record in the case: every code read that may be packed."""
    read: tuple[str, ...]
    """Everything read, as keys (or the data when it is no code of the batch)."""
    seen: tuple[str, ...]
    """Keys of the batch's units read, packable or not: physically in this case."""
    unexpected: tuple[str, ...]
    """Codes that may not be in the case, each with the reason."""
    missing: tuple[str, ...]
    """Units waiting to be packed that went into the packer before one read here, not read."""
    count_problem: str | None

    @property
    def ok(self) -> bool:
        return not self.unexpected and self.count_problem is None

    def describe(self) -> str:
        """What was wrong, for the alarm: the case, the count, the codes unexpected, missing
        and read."""
        parts = [f"case {self.number} not recorded"]
        if self.count_problem:
            parts.append(self.count_problem)
        if self.unexpected:
            parts.append(f"unexpected: {_listed(self.unexpected)}")
        if self.missing:
            parts.append(f"missing: {_listed(self.missing)}")
        parts.append(f"read: {_listed(self.read) if self.read else 'nothing'}")
        return "; ".join(parts)


def check_case(
    number: int,
    codes: Sequence[ContentsCode],
    *,
    expected: int,
    partial: bool,
    unreadable: int,
    waiting: Sequence[str],
    standing: Callable[[str], str | None],
) -> CaseFinding:
    """The finding on case `number` from the `codes` read in it.

    `standing(key)` is None for a unit that may be packed (accepted, waiting for a case),
    else why it may not. `waiting` lists the units waiting, in the order they passed the gate.
    `partial`: the case may hold fewer than `expected` (the batch is ending).
    """
    children: list[str] = []
    seen: list[str] = []
    unexpected: list[str] = []
    for code in codes:
        key = code.key
        if key is None:
            unexpected.append(f"{code.shown} ({code.problem})")
            continue
        if key in seen:
            unexpected.append(f"{key} (read twice in this case: a copied code)")
            continue
        seen.append(key)
        problem = standing(key)
        if problem is None:
            children.append(key)
        else:
            unexpected.append(f"{key} ({problem})")
    return CaseFinding(
        number=number,
        children=tuple(children),
        read=tuple(code.shown for code in codes),
        seen=tuple(seen),
        unexpected=tuple(unexpected),
        missing=_missing(waiting, set(seen)),
        count_problem=_count_problem(len(codes), expected, partial=partial, unreadable=unreadable),
    )


def _count_problem(read: int, expected: int, *, partial: bool, unreadable: int) -> str | None:
    wanted = f"at most {expected} (batch end)" if partial else str(expected)
    if unreadable:
        return f"{read} codes read and {unreadable} found unreadable, expected {wanted}"
    if read == 0:
        return "no code read in the case"
    if read == expected or (partial and read < expected):
        return None
    return f"{read} codes read, expected {wanted}"


def _missing(waiting: Sequence[str], seen: set[str]) -> tuple[str, ...]:
    """Waiting units ahead of the last one read: they went into the packer first, so they
    belong in this case or an earlier one, and no case showed them."""
    last = max((index for index, key in enumerate(waiting) if key in seen), default=-1)
    return tuple(key for key in waiting[:last] if key not in seen)


def _listed(items: Sequence[str]) -> str:
    shown = ", ".join(items[:SHOWN_AT_MOST])
    more = len(items) - SHOWN_AT_MOST
    return shown + (f" and {more} more" if more > 0 else "")
