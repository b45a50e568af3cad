"""The code states against the four tables they replaced (a level map and three sets)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.epcis.code_states import CodeStates, Seen
from serialization.rules import PackagingLevel

KEYS = st.sampled_from([f"K{i}" for i in range(8)])
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("allocate"), KEYS, st.sampled_from(list(PackagingLevel))),
        st.tuples(st.just("mark"), KEYS, st.sampled_from(list(Seen))),
    ),
    max_size=40,
)


@given(STEPS)
def test_the_states_answer_as_the_tables_did(steps: list[tuple[str, str, object]]) -> None:
    codes = CodeStates()
    levels: dict[str, PackagingLevel] = {}
    seen: dict[Seen, set[str]] = {flag: set() for flag in Seen}
    for action, key, value in steps:
        if action == "allocate":
            assert isinstance(value, PackagingLevel)
            codes.allocate(key, value)
            levels[key] = value
        else:
            assert isinstance(value, Seen)
            codes.mark(key, value)
            seen[value].add(key)
    assert dict(codes) == levels
    assert len(codes) == len(levels)
    for i in range(8):
        key = f"K{i}"
        assert (key in codes) == (key in levels)
        assert codes.get(key) == levels.get(key)
        assert codes.printed(key) == (key in seen[Seen.PRINTED])
        assert codes.commissioned(key) == (key in seen[Seen.COMMISSIONED])
        assert codes.ended(key) == (key in seen[Seen.ENDED])


def test_a_code_seen_before_it_was_allocated_has_no_level() -> None:
    codes = CodeStates({"A": PackagingLevel.CASE})
    codes.mark("B", Seen.PRINTED)
    assert codes.printed("B")
    assert "B" not in codes
    with pytest.raises(KeyError):
        codes["B"]
    codes.allocate("B", PackagingLevel.UNIT)
    assert codes["B"] is PackagingLevel.UNIT
    assert codes.printed("B")
    assert sorted(codes) == ["A", "B"]


def test_the_first_mark_keeps_the_callers_string() -> None:
    from_store, from_line = "".join(["0109", "501"]), "".join(["01095", "01"])
    assert from_store == from_line
    assert from_store is not from_line
    codes = CodeStates({from_store: PackagingLevel.UNIT})
    codes.mark(from_line, Seen.PRINTED)
    codes.mark("".join(["0109", "501"]), Seen.COMMISSIONED)
    (kept,) = codes
    assert kept is from_line
    assert codes[from_line] is PackagingLevel.UNIT
    assert codes.printed(kept)
    assert codes.commissioned(kept)
