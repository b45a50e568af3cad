"""Reconciliation arithmetic: do the codes of a batch add up, and if not, which ones drift?

While the line runs, two equations must hold at every moment:

    allocated = issued + buffered
    issued    = accepted + rejected + sampled + destroyed + in_flight

They are checked over sets of code keys, not just counts, so that a drift names its codes: two
errors can cancel out in a count but never in a set. At batch end the record's equation is
checked over counts (`batch_end_reconciliation`):

    issued = good + rejected + sampled + destroyed + returned
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from itertools import combinations
from types import MappingProxyType

from serialization.errors import SerializationError

OUTCOMES = ("accepted", "rejected", "sampled", "destroyed", "in_flight")


class ReconciliationInputError(SerializationError):
    """A count given to the reconciliation is impossible (negative)."""


@dataclass(frozen=True)
class LineLedger:
    """Where every code key allocated to a line for a batch is right now."""

    allocated: frozenset[str] = frozenset()
    buffered: frozenset[str] = frozenset()
    """Still in the pre-allocated buffer, not sent to the printer."""
    issued: frozenset[str] = frozenset()
    """Sent to the printer ("printed")."""
    accepted: frozenset[str] = frozenset()
    rejected: frozenset[str] = frozenset()
    sampled: frozenset[str] = frozenset()
    destroyed: frozenset[str] = frozenset()
    in_flight: frozenset[str] = frozenset()
    """Printed, verdict not yet known."""

    def outcome_sets(self) -> dict[str, frozenset[str]]:
        return {name: getattr(self, name) for name in OUTCOMES}


@dataclass(frozen=True)
class Equation:
    """`left = right` with both sides evaluated; `left` and `right` are the terms as text."""

    name: str
    left: str
    right: str
    left_value: int
    right_value: int

    @property
    def holds(self) -> bool:
        return self.left_value == self.right_value

    @property
    def difference(self) -> int:
        """left − right: positive when the right side is missing codes."""
        return self.left_value - self.right_value

    def __str__(self) -> str:
        sign = "=" if self.holds else "≠"
        return f"{self.left} {sign} {self.right} ({self.left_value} {sign} {self.right_value})"


@dataclass(frozen=True)
class Reconciliation:
    balanced: bool
    counts: Mapping[str, int]
    equations: tuple[Equation, ...]
    unaccounted: frozenset[str] = frozenset()
    """Allocated but neither buffered nor issued; or issued but in no outcome."""
    double_counted: frozenset[str] = frozenset()
    """In two places at once (buffered and issued, two outcomes, buffered and an outcome)."""
    unexpected: frozenset[str] = frozenset()
    """Somewhere in the ledger without being allocated; or in an outcome without being issued."""
    ledger: LineLedger | None = field(default=None, repr=False, compare=False)
    """The ledger reconciled, so `describe` can say where each named code was found."""

    def describe(self, limit: int = 10) -> str:
        """Human text: the equations and, when unbalanced, up to `limit` codes of each problem."""
        lines = [str(equation) for equation in self.equations]
        if self.balanced:
            return "balanced: " + "; ".join(lines)
        text = ["reconciliation drift: " + "; ".join(lines)]
        for label, keys in (
            ("unaccounted", self.unaccounted),
            ("double counted", self.double_counted),
            ("unexpected", self.unexpected),
        ):
            if keys:
                text.append(f"{len(keys)} {label}: {self._name(keys, limit)}")
        return "\n".join(text)

    def _name(self, keys: frozenset[str], limit: int) -> str:
        shown = sorted(keys)[: max(limit, 0)]
        named = ", ".join(self._where(key) for key in shown)
        rest = len(keys) - len(shown)
        if rest:
            named += f"{', ' if named else ''}and {rest} more"
        return named

    def _where(self, key: str) -> str:
        if self.ledger is None:
            return key
        places = [f.name for f in fields(self.ledger) if key in getattr(self.ledger, f.name)]
        return f"{key} (in {', '.join(places) or 'nothing'})"


def reconcile(ledger: LineLedger) -> Reconciliation:
    """Check both live equations over `ledger`; balanced exactly when its sets partition."""
    counts = {f.name: len(getattr(ledger, f.name)) for f in fields(ledger)}
    equations = _equations(counts)
    if _partitions(ledger):
        return Reconciliation(True, MappingProxyType(counts), equations, ledger=ledger)
    outcomes = ledger.outcome_sets()
    in_outcome = frozenset().union(*outcomes.values())
    unaccounted = (ledger.allocated - ledger.buffered - ledger.issued) | (
        ledger.issued - in_outcome
    )
    double_counted = (
        (ledger.buffered & ledger.issued)
        | (ledger.buffered & in_outcome)
        | _in_more_than_one(outcomes.values(), in_outcome)
    )
    everywhere = ledger.buffered | ledger.issued | in_outcome
    unexpected = (everywhere - ledger.allocated) | (in_outcome - ledger.issued)
    return Reconciliation(
        balanced=not (unaccounted or double_counted or unexpected),
        counts=MappingProxyType(counts),
        equations=equations,
        unaccounted=unaccounted,
        double_counted=double_counted,
        unexpected=unexpected,
        ledger=ledger,
    )


def reconciled(counts: Mapping[str, int]) -> Reconciliation:
    """A ledger already known to partition (its keeper counted every move), given by its
    counts: balanced when both equations hold over them. No sets, so nothing to name."""
    equations = _equations(counts)
    return Reconciliation(
        all(equation.holds for equation in equations), MappingProxyType(dict(counts)), equations
    )


def _equations(counts: Mapping[str, int]) -> tuple[Equation, Equation]:
    return (
        Equation(
            "allocation",
            "allocated",
            "issued + buffered",
            counts["allocated"],
            counts["issued"] + counts["buffered"],
        ),
        Equation(
            "issue",
            "issued",
            " + ".join(OUTCOMES),
            counts["issued"],
            sum(counts[name] for name in OUTCOMES),
        ),
    )


def batch_end_reconciliation(
    issued: int, good: int, rejected: int, sampled: int, destroyed: int, returned: int
) -> Reconciliation:
    """The batch record's equation over counts: issued = good + rejected + sampled + destroyed
    + returned. No code keys, so the problem sets are empty; `equations[0].difference` is the
    number of codes missing (positive) or counted twice (negative)."""
    counts = {
        "issued": issued,
        "good": good,
        "rejected": rejected,
        "sampled": sampled,
        "destroyed": destroyed,
        "returned": returned,
    }
    for name, value in counts.items():
        if value < 0:
            raise ReconciliationInputError(
                f"count is negative ({value})",
                field=name,
                hint="counts of codes are zero or more; check the source of this count",
            )
    terms = ("good", "rejected", "sampled", "destroyed", "returned")
    equation = Equation(
        "batch end", "issued", " + ".join(terms), issued, sum(counts[name] for name in terms)
    )
    return Reconciliation(
        balanced=equation.holds, counts=MappingProxyType(counts), equations=(equation,)
    )


def _in_more_than_one(sets: Iterable[frozenset[str]], union: frozenset[str]) -> frozenset[str]:
    sets = tuple(sets)
    if sum(len(keys) for keys in sets) == len(union):
        return frozenset()
    seen = Counter(key for keys in sets for key in keys)
    return frozenset(key for key, times in seen.items() if times > 1)


def _partitions(ledger: LineLedger) -> bool:
    """The fast check of the usual case: buffered and issued partition allocated, and the
    outcomes partition issued. Only subset and disjointness tests: no set is built."""
    outcomes = tuple(ledger.outcome_sets().values())
    return (
        len(ledger.buffered) + len(ledger.issued) == len(ledger.allocated)
        and ledger.buffered.isdisjoint(ledger.issued)
        and ledger.buffered <= ledger.allocated
        and ledger.issued <= ledger.allocated
        and sum(len(keys) for keys in outcomes) == len(ledger.issued)
        and all(keys <= ledger.issued for keys in outcomes)
        and all(a.isdisjoint(b) for a, b in combinations(outcomes, 2))
    )
