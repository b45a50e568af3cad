"""The line's code ledger: one map of places with counts kept as codes move, against the sets
it replaced (a code in every set it was added to and not discarded from)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gateway.line.ledger import CodeLedger
from serialization.reconciliation import LineLedger, reconcile

PLACES = ("issued", "accepted", "rejected", "sampled", "destroyed")
MOVES = {
    "issue": ("issued", ()),
    "accept": ("accepted", ()),
    "reject": ("rejected", ("accepted",)),
    "sample": ("sampled", ("accepted",)),
    "destroy": ("destroyed", ("accepted", "sampled")),
}

moves = st.lists(
    st.tuples(st.sampled_from(sorted(MOVES)), st.sampled_from(["a", "b", "c", "d", "e"])),
    max_size=40,
)


def _model(steps: list[tuple[str, str]]) -> dict[str, set[str]]:
    sets: dict[str, set[str]] = {place: set() for place in PLACES}
    for move, key in steps:
        added, discarded = MOVES[move]
        for place in discarded:
            sets[place].discard(key)
        sets[added].add(key)
    return sets


@given(moves, st.integers(min_value=0, max_value=3))
def test_the_ledger_agrees_with_the_sets_it_replaced(
    steps: list[tuple[str, str]], buffered: int
) -> None:
    ledger = CodeLedger()
    for move, key in steps:
        getattr(ledger, move)(key)
    sets = _model(steps)
    in_flight = sets["issued"].difference(*(sets[p] for p in PLACES[1:]))
    for place in PLACES:
        assert set(getattr(ledger, place)) == sets[place]
        assert len(getattr(ledger, place)) == len(sets[place])
        assert all(key in getattr(ledger, place) for key in sets[place])
    assert set(ledger.in_flight) == in_flight
    assert ledger.counts() == {p: len(sets[p]) for p in PLACES} | {"in_flight": len(in_flight)}
    spare = frozenset(f"buffered-{n}" for n in range(buffered))
    allocated = frozenset(sets["issued"]) | spare
    by_sets = reconcile(
        LineLedger(
            allocated=allocated,
            buffered=spare,
            in_flight=frozenset(in_flight),
            **{place: frozenset(keys) for place, keys in sets.items()},
        )
    )
    assert ledger.balanced(len(allocated), len(spare)) == by_sets.balanced
    assert ledger.snapshot(allocated=allocated, buffered=spare) == by_sets.ledger


def test_a_code_in_two_outcomes_or_an_outcome_without_issue_unbalances() -> None:
    ledger = CodeLedger()
    ledger.issue("a")
    ledger.reject("a")
    assert ledger.balanced(1, 0)
    ledger.sample("a")
    assert not ledger.balanced(1, 0), "rejected and sampled"
    ledger.destroy("b")
    assert ledger.irregular == 2
    assert "b" in ledger.destroyed
    assert "b" not in ledger.issued


def test_the_store_counting_more_or_fewer_codes_unbalances() -> None:
    ledger = CodeLedger()
    for key in "abc":
        ledger.issue(key)
    ledger.accept("a")
    assert ledger.balanced(5, 2)
    assert not ledger.balanced(6, 2), "a code the runtime does not know of"
    assert not ledger.balanced(4, 2), "a code both buffered and issued"
    assert "x" not in ledger.accepted
    assert 1 not in ledger.issued
