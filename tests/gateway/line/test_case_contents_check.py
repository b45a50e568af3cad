"""The case-camera rules on the codes read in a case: exactly the units read, or a finding that
names the case, the count, and the codes unexpected, missing and read."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from drivers.camera.vision import ContentsCode
from gateway.line.case_contents import CaseFinding, check_case

WAITING = [f"01095011015300032100000{n:03d}" for n in range(30)]
REJECTED = "0109501101530003219999REJ"


def _code(key: str) -> ContentsCode:
    return ContentsCode(key, "]d2", key, "")


def _foreign(data: str, problem: str) -> ContentsCode:
    return ContentsCode(data, "]d2", None, problem)


def _standing(key: str) -> str | None:
    if key in WAITING:
        return None
    if key == REJECTED:
        return "rejected at the unit station"
    return "already in case 2"


def test_a_full_case_of_waiting_units_is_recorded_with_exactly_those() -> None:
    read = [WAITING[n] for n in (3, 1, 2, 0, 4, 5, 6, 7, 8, 9)]
    finding = check_case(
        7,
        [_code(key) for key in read],
        expected=10,
        partial=False,
        unreadable=0,
        waiting=WAITING,
        standing=_standing,
    )
    assert finding.ok
    assert finding.children == tuple(read)
    assert finding.missing == ()


def test_a_foreign_and_a_rejected_code_and_a_copy_are_each_named() -> None:
    read = [
        _code(WAITING[0]),
        _code(WAITING[1]),
        _code(WAITING[1]),
        _code(REJECTED),
        _foreign("0109501101530003\x1d21X", "lot ZZ is not this batch's AB"),
    ]
    finding = check_case(
        12, read, expected=5, partial=False, unreadable=0, waiting=WAITING, standing=_standing
    )
    assert not finding.ok
    assert finding.count_problem is None
    assert finding.children == (WAITING[0], WAITING[1])
    assert finding.seen == (WAITING[0], WAITING[1], REJECTED)
    text = finding.describe()
    assert text.startswith("case 12 not recorded")
    assert f"{WAITING[1]} (read twice in this case: a copied code)" in text
    assert f"{REJECTED} (rejected at the unit station)" in text
    assert "0109501101530003<GS>21X (lot ZZ is not this batch's AB)" in text
    assert f"read: {WAITING[0]}, {WAITING[1]}, {WAITING[1]}, {REJECTED}" in text


def test_a_short_case_names_the_count_and_the_units_not_seen() -> None:
    read = [_code(WAITING[n]) for n in (0, 1, 3, 4)]
    finding = check_case(
        3, read, expected=5, partial=False, unreadable=1, waiting=WAITING, standing=_standing
    )
    assert not finding.ok
    assert finding.count_problem == "4 codes read and 1 found unreadable, expected 5"
    assert finding.missing == (WAITING[2],)
    assert f"missing: {WAITING[2]}" in finding.describe()


def test_the_partial_case_at_batch_end_may_hold_fewer_but_not_more_or_none() -> None:
    def check(keys: list[str], *, partial: bool) -> CaseFinding:
        codes = [_code(key) for key in keys]
        return check_case(
            40, codes, expected=10, partial=partial, unreadable=0, waiting=WAITING,
            standing=_standing,
        )  # fmt: skip

    assert check(WAITING[:3], partial=True).ok
    assert not check(WAITING[:3], partial=False).ok
    assert check(WAITING[:11], partial=True).count_problem == (
        "11 codes read, expected at most 10 (batch end)"
    )
    empty = check([], partial=True)
    assert empty.count_problem == "no code read in the case"
    assert "read: nothing" in empty.describe()


@given(
    picked=st.lists(st.integers(0, len(WAITING) - 1), max_size=14),
    strangers=st.lists(st.sampled_from([REJECTED, "01xx21taken"]), max_size=2),
    expected=st.integers(1, 12),
    partial=st.booleans(),
)
def test_recorded_exactly_when_every_rule_holds(
    picked: list[int], strangers: list[str], expected: int, partial: bool
) -> None:
    keys = [WAITING[n] for n in picked] + strangers
    finding = check_case(
        1,
        [_code(key) for key in keys],
        expected=expected,
        partial=partial,
        unreadable=0,
        waiting=WAITING,
        standing=_standing,
    )
    unique = len(set(keys)) == len(keys)
    count_ok = len(keys) == expected or (partial and 0 < len(keys) < expected)
    assert finding.ok == (unique and not strangers and count_ok)
    if finding.ok:
        assert finding.children == tuple(keys)
    assert set(finding.children) <= set(WAITING)
    assert set(finding.seen) == set(keys)
    assert len(finding.read) == len(keys)
