"""The live reconciliation equations over key sets, and the batch-end equation over counts."""

from __future__ import annotations

from dataclasses import fields, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serialization.errors import SerializationError
from serialization.reconciliation import (
    OUTCOMES,
    LineLedger,
    ReconciliationInputError,
    batch_end_reconciliation,
    reconcile,
)

PLACES = ("buffered", *OUTCOMES)
"""The places a code can be in a partitioned ledger (issued is the union of the outcomes)."""
SET_NAMES = tuple(f.name for f in fields(LineLedger))


def ledger_from(placement: dict[str, str]) -> LineLedger:
    """A partitioned ledger: each key in exactly one place."""
    sets = {name: frozenset(k for k, p in placement.items() if p == name) for name in PLACES}
    issued = frozenset(k for k, p in placement.items() if p != "buffered")
    return LineLedger(allocated=frozenset(placement), issued=issued, **sets)


placements = st.dictionaries(
    st.text("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ", min_size=1, max_size=8),
    st.sampled_from(PLACES),
    max_size=40,
)


def test_an_empty_ledger_balances() -> None:
    result = reconcile(LineLedger())
    assert result.balanced
    assert all(equation.holds for equation in result.equations)


def test_a_balanced_ledger() -> None:
    ledger = ledger_from({"a": "accepted", "b": "rejected", "c": "buffered", "d": "in_flight"})
    result = reconcile(ledger)
    assert result.balanced
    assert result.counts["allocated"] == 4
    assert result.counts["issued"] == 3
    assert [equation.name for equation in result.equations] == ["allocation", "issue"]
    assert str(result.equations[0]) == "allocated = issued + buffered (4 = 4)"
    assert result.describe().startswith("balanced: allocated = issued + buffered (4 = 4);")


def test_drift_names_the_codes_and_where_they_are() -> None:
    ledger = ledger_from({"a": "accepted", "b": "rejected", "c": "buffered"})
    ledger = replace(ledger, accepted=ledger.accepted | {"b"}, allocated=ledger.allocated | {"z"})
    result = reconcile(ledger)
    assert not result.balanced
    assert result.double_counted == {"b"}
    assert result.unaccounted == {"z"}
    text = result.describe()
    assert text.startswith("reconciliation drift: allocated ≠ issued + buffered (4 ≠ 3)")
    assert "1 unaccounted: z (in allocated)" in text
    assert "1 double counted: b (in allocated, issued, accepted, rejected)" in text


def test_describe_names_at_most_limit_codes() -> None:
    ledger = LineLedger(allocated=frozenset(f"k{i:02d}" for i in range(25)))
    text = reconcile(ledger).describe(limit=3)
    assert "25 unaccounted: k00 (in allocated), k01 (in allocated), k02 (in allocated)" in text
    assert text.endswith("and 22 more")
    assert reconcile(ledger).describe(limit=0).endswith("25 unaccounted: and 25 more")


def test_counts_can_balance_while_the_sets_do_not() -> None:
    """One code missing and another unexpected: the counts agree, the keys name both."""
    ledger = LineLedger(
        allocated=frozenset({"a", "b", "y"}),
        buffered=frozenset({"b"}),
        issued=frozenset({"a", "x"}),
        accepted=frozenset({"a", "x"}),
    )
    result = reconcile(ledger)
    assert result.equations[0].holds
    assert not result.balanced
    assert result.unaccounted == {"y"}
    assert result.unexpected == {"x"}


def test_an_outcome_without_issue_is_unexpected() -> None:
    ledger = LineLedger(allocated=frozenset({"a"}), accepted=frozenset({"a"}))
    result = reconcile(ledger)
    assert "a" in result.unexpected
    assert "a" in result.unaccounted


@settings(max_examples=300)
@given(placements)
def test_a_partition_balances(placement: dict[str, str]) -> None:
    result = reconcile(ledger_from(placement))
    assert result.balanced
    assert not result.unaccounted
    assert not result.double_counted
    assert not result.unexpected
    for equation in result.equations:
        assert equation.holds
        assert equation.difference == 0


@settings(max_examples=500)
@given(placements, st.data())
def test_any_single_misplaced_key_is_named(placement: dict[str, str], data: st.DataObject) -> None:
    """Add a key to a set it does not belong in, or take it out of one it does: drift, named."""
    ledger = ledger_from(placement)
    key = data.draw(st.sampled_from([*placement, "FOREIGN"]))
    name = data.draw(st.sampled_from(SET_NAMES))
    current: frozenset[str] = getattr(ledger, name)
    changed = current - {key} if key in current else current | {key}
    result = reconcile(replace(ledger, **{name: changed}))
    assert not result.balanced
    assert key in result.unaccounted | result.double_counted | result.unexpected
    assert key in result.describe()


@settings(max_examples=300)
@given(
    st.dictionaries(
        st.sampled_from("abcdefgh"),
        st.sets(st.sampled_from(SET_NAMES), max_size=4),
        max_size=8,
    )
)
def test_balanced_iff_the_sets_partition(membership: dict[str, set[str]]) -> None:
    ledger = LineLedger(
        **{
            name: frozenset(key for key, names in membership.items() if name in names)
            for name in SET_NAMES
        }
    )
    partitions = (
        not (ledger.buffered & ledger.issued)
        and ledger.buffered | ledger.issued == ledger.allocated
        and sum(len(keys) for keys in ledger.outcome_sets().values()) == len(ledger.issued)
        and frozenset().union(*ledger.outcome_sets().values()) == ledger.issued
    )
    assert reconcile(ledger).balanced == partitions


# --- batch end -----------------------------------------------------------------------------------


def test_batch_end_balances() -> None:
    result = batch_end_reconciliation(
        issued=100, good=90, rejected=5, sampled=3, destroyed=1, returned=1
    )
    assert result.balanced
    assert result.describe() == (
        "balanced: issued = good + rejected + sampled + destroyed + returned (100 = 100)"
    )


def test_batch_end_drift_says_how_many() -> None:
    result = batch_end_reconciliation(
        issued=100, good=90, rejected=5, sampled=3, destroyed=0, returned=0
    )
    assert not result.balanced
    assert result.equations[0].difference == 2
    assert "(100 ≠ 98)" in result.describe()


def test_batch_end_refuses_negative_counts() -> None:
    with pytest.raises(ReconciliationInputError) as info:
        batch_end_reconciliation(issued=1, good=2, rejected=-1, sampled=0, destroyed=0, returned=0)
    assert isinstance(info.value, SerializationError)
    assert info.value.field == "rejected"
    assert info.value.hint


@given(st.lists(st.integers(0, 10**6), min_size=6, max_size=6))
def test_batch_end_balanced_iff_the_sum_matches(values: list[int]) -> None:
    issued, *terms = values
    result = batch_end_reconciliation(issued, *terms)
    assert result.balanced == (issued == sum(terms))
    assert result.equations[0].difference == issued - sum(terms)
