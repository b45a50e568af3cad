"""The sequence rules refuse planted invalid sequences with an error naming the rule, the event
and the EPC; a refused event changes nothing; random legal lives of codes always pass."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serialization.epcis import (
    Action,
    EpcisEvent,
    ObjectEvent,
    Place,
    Rule,
    SequenceChecker,
    SequenceError,
    check_sequence,
    commissioning,
    decommissioning,
    destroying,
    inspecting,
    packing,
    sampling,
    shipping,
    unpacking,
)

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
PLACE = Place.site("9501101000001", 7)
UNITS = [f"urn:epc:id:sgtin:9501101.053000.U{n}" for n in range(6)]
CASE = "urn:epc:id:sscc:9501101.3000000001"
CASE_2 = "urn:epc:id:sscc:9501101.3000000002"
PALLET = "urn:epc:id:sscc:9501101.3000000003"


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def refused(events: list[EpcisEvent], *, finish: bool = False) -> SequenceError:
    """The error of the first refused event (or of `finish`, when asked)."""
    checker = SequenceChecker()
    try:
        for event in events:
            checker.check(event)
        if finish:
            checker.finish()
    except SequenceError as error:
        return error
    raise AssertionError("the sequence was accepted")


def test_a_legal_life_passes() -> None:
    taken, deleted = sampling([UNITS[2]], at(5), PLACE)
    check_sequence(
        [
            commissioning(UNITS[:4], at(0), PLACE),
            commissioning([CASE], at(1), PLACE),
            packing(CASE, UNITS[:3], at(1), PLACE),
            unpacking(CASE, [UNITS[2]], at(2), PLACE),
            packing(CASE, [UNITS[3]], at(3), PLACE),
            inspecting([UNITS[0]], at(4), PLACE),
            taken,
            deleted,
            commissioning([PALLET], at(6), PLACE),
            packing(PALLET, [CASE], at(6), PLACE),
            shipping([PALLET], at(7), PLACE),
            decommissioning([UNITS[5]], at(8), PLACE),
        ]
    )


def test_no_event_after_destroying() -> None:
    error = refused(
        [
            commissioning([UNITS[0]], at(0), PLACE),
            destroying([UNITS[0]], at(1), PLACE),
            shipping([UNITS[0]], at(2), PLACE),
        ]
    )
    assert error.rule == Rule.NO_EVENT_AFTER_DESTROYING
    assert error.epc == UNITS[0]
    assert "ObjectEvent OBSERVE shipping at 2026-11-22T09:02:00+08:00" in error.event
    text = str(error)
    assert text.startswith("rule 'no event after destroying' refuses ObjectEvent OBSERVE shipping")
    assert "its life ended with ObjectEvent DELETE destroying" in text
    assert "use a new identifier" in text


def test_no_event_after_decommissioning_or_another_delete() -> None:
    error = refused(
        [decommissioning([UNITS[0]], at(0), PLACE), commissioning([UNITS[0]], at(1), PLACE)]
    )
    assert error.rule == Rule.NO_EVENT_AFTER_DECOMMISSIONING
    deleted = ObjectEvent(
        event_time=at(0), epc_list=(UNITS[1],), action=Action.DELETE, biz_step="removing"
    )
    assert refused([deleted, inspecting([UNITS[1]], at(1), PLACE)]).rule == (
        Rule.NO_EVENT_AFTER_DELETE
    )


def test_sampling_without_delete_is_refused() -> None:
    taken, _ = sampling([UNITS[0]], at(1), PLACE)
    error = refused([commissioning([UNITS[0]], at(0), PLACE), taken], finish=True)
    assert error.rule == Rule.SAMPLING_ENDS_IN_DELETE
    assert "the sample's life never ends" in str(error)
    error = refused(
        [commissioning([UNITS[0]], at(0), PLACE), taken, shipping([UNITS[0]], at(2), PLACE)]
    )
    assert error.rule == Rule.SAMPLING_ENDS_IN_DELETE
    assert "it was sampled (ObjectEvent OBSERVE sampling" in str(error)


def test_packing_an_uncommissioned_child_is_refused() -> None:
    error = refused(
        [
            commissioning([CASE, UNITS[0]], at(0), PLACE),
            packing(CASE, [UNITS[0], UNITS[1]], at(1), PLACE),
        ]
    )
    assert (error.rule, error.epc) == (Rule.COMMISSIONED_BEFORE_PACKING, UNITS[1])
    assert "it was never commissioned" in str(error)
    error = refused(
        [commissioning([UNITS[0]], at(0), PLACE), packing(CASE, [UNITS[0]], at(1), PLACE)]
    )
    assert (error.rule, error.epc) == (Rule.COMMISSIONED_BEFORE_PACKING, CASE)


def test_a_child_has_one_parent_at_a_time() -> None:
    error = refused(
        [
            commissioning([CASE, CASE_2, UNITS[0]], at(0), PLACE),
            packing(CASE, [UNITS[0]], at(1), PLACE),
            packing(CASE_2, [UNITS[0]], at(2), PLACE),
        ]
    )
    assert (error.rule, error.epc) == (Rule.ONE_PARENT_AT_A_TIME, UNITS[0])
    assert f"it is packed in {CASE}" in str(error)
    error = refused(
        [
            commissioning([CASE, CASE_2, UNITS[0]], at(0), PLACE),
            packing(CASE, [UNITS[0]], at(1), PLACE),
            unpacking(CASE_2, [UNITS[0]], at(2), PLACE),
        ]
    )
    assert error.rule == Rule.UNPACK_ONLY_WHAT_IS_PACKED
    assert f"it is not in {CASE_2} but in {CASE}" in str(error)


def test_a_code_is_commissioned_once() -> None:
    error = refused(
        [commissioning([UNITS[0]], at(0), PLACE), commissioning([UNITS[0]], at(1), PLACE)]
    )
    assert error.rule == Rule.COMMISSIONED_ONCE


def test_a_refused_event_changes_nothing() -> None:
    checker = SequenceChecker()
    checker.check(commissioning([CASE, UNITS[0]], at(0), PLACE))
    with pytest.raises(SequenceError):
        checker.check(packing(CASE, [UNITS[0], UNITS[1]], at(1), PLACE))
    checker.check(commissioning([CASE_2], at(2), PLACE))
    checker.check(packing(CASE_2, [UNITS[0]], at(3), PLACE))
    with pytest.raises(SequenceError):
        checker.check(commissioning([UNITS[1], CASE], at(4), PLACE))
    checker.check(commissioning([UNITS[1]], at(5), PLACE))
    checker.finish()


def test_unpacking_a_whole_case_or_destroying_it_frees_the_children() -> None:
    check_sequence(
        [
            commissioning([CASE, CASE_2, *UNITS[:2]], at(0), PLACE),
            packing(CASE, UNITS[:2], at(1), PLACE),
            unpacking(CASE, [], at(2), PLACE),
            packing(CASE_2, UNITS[:2], at(3), PLACE),
            destroying([CASE_2], at(4), PLACE),
            packing(CASE, UNITS[:2], at(5), PLACE),
        ]
    )


def test_a_case_taken_off_its_pallet_keeps_its_units() -> None:
    checker = SequenceChecker()
    for event in (
        commissioning([CASE, PALLET, *UNITS[:2]], at(0), PLACE),
        packing(CASE, UNITS[:2], at(1), PLACE),
        packing(PALLET, [CASE], at(2), PLACE),
        unpacking(PALLET, [CASE], at(3), PLACE),
    ):
        checker.check(event)
    assert checker.parent_of(CASE) is None
    assert checker.children_of(PALLET) == ()
    assert checker.children_of(CASE) == tuple(UNITS[:2])
    assert checker.parent_of(UNITS[1]) == CASE
    checker.check(unpacking(CASE, [UNITS[1]], at(4), PLACE))
    assert checker.children_of(CASE) == (UNITS[0],)
    checker.check(destroying([CASE], at(5), PLACE))
    assert checker.parent_of(UNITS[0]) is None
    checker.finish()


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, 3))))
def test_random_legal_lives_pass_and_a_dead_code_is_never_named_again(
    steps: list[tuple[int, int, int]],
) -> None:
    """A model of each code's life picks only legal events; the checker accepts them all, and
    refuses any event naming a code whose life ended."""
    checker = SequenceChecker()
    cases = [CASE, CASE_2]
    checker.check(commissioning(cases, at(0), PLACE))
    alive: set[str] = set()
    dead: set[str] = set()
    parent: dict[str, str] = {}
    for minute, (unit_index, case_index, action) in enumerate(steps, start=1):
        unit, case = UNITS[unit_index], cases[case_index % 2]
        if unit in dead:
            with pytest.raises(SequenceError) as caught:
                checker.check(inspecting([unit], at(minute), PLACE))
            assert caught.value.rule in (
                Rule.NO_EVENT_AFTER_DESTROYING,
                Rule.NO_EVENT_AFTER_DECOMMISSIONING,
            )
        elif unit not in alive:
            checker.check(commissioning([unit], at(minute), PLACE))
            alive.add(unit)
        elif action == 0 and unit not in parent:
            checker.check(packing(case, [unit], at(minute), PLACE))
            parent[unit] = case
        elif action == 1 and unit in parent:
            checker.check(unpacking(parent.pop(unit), [unit], at(minute), PLACE))
        elif action == 2:
            for event in sampling([unit], at(minute), PLACE):
                checker.check(event)
            alive.discard(unit)
            dead.add(unit)
            parent.pop(unit, None)
        elif action == 3:
            checker.check(decommissioning([unit], at(minute), PLACE))
            alive.discard(unit)
            dead.add(unit)
            parent.pop(unit, None)
        else:
            checker.check(inspecting([unit], at(minute), PLACE))
    checker.finish()


@settings(max_examples=200, deadline=None)
@given(steps=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 7), st.integers(0, 1))))
def test_where_codes_are_packed_follows_a_model(steps: list[tuple[int, int, int]]) -> None:
    """Units into cases, cases onto the pallet, unpacking one or all, destroying: the checker's
    `parent_of` and `children_of` answer as a plain model of parents and child lists."""
    checker = SequenceChecker()
    cases = [CASE, CASE_2]
    codes = [*UNITS, *cases]
    checker.check(commissioning([*codes, PALLET], at(0), PLACE))
    parent: dict[str, str] = {}
    children: dict[str, list[str]] = {}
    dead: set[str] = set()

    def detach(code: str) -> None:
        if code in parent:
            children[parent.pop(code)].remove(code)

    for minute, (op, index, which) in enumerate(steps, start=1):
        code = codes[index]
        target = cases[which] if code in UNITS else PALLET
        if code in dead or target in dead:
            continue
        if op == 0 and parent.get(code, target) == target:
            checker.check(packing(target, [code], at(minute), PLACE))
            if code not in parent:
                parent[code] = target
                children.setdefault(target, []).append(code)
        elif op == 1 and code in parent:
            checker.check(unpacking(parent[code], [code], at(minute), PLACE))
            detach(code)
        elif op == 2 and children.get(target):
            checker.check(unpacking(target, [], at(minute), PLACE))
            for child in children.pop(target):
                del parent[child]
        elif op == 3:
            checker.check(destroying([code], at(minute), PLACE))
            detach(code)
            for child in children.pop(code, []):
                del parent[child]
            dead.add(code)
        for each in [*codes, PALLET]:
            assert checker.parent_of(each) == parent.get(each), each
            assert checker.children_of(each) == tuple(children.get(each, ())), each
    checker.finish()
