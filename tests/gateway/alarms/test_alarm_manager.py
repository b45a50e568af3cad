"""The alarm manager: conditions, operator actions, shelving, the banner and the transitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from gateway.alarms import (
    RUNTIME_ALARMS,
    AlarmDefinition,
    AlarmError,
    AlarmManager,
    AlarmState,
    AlarmTransition,
    IllegalAlarmEventError,
    Priority,
    UnknownAlarmError,
)
from gateway.alarms.catalog import (
    DEVICE_FAULT,
    DUPLICATE_TRIGGER,
    LOOP_LAG,
    REJECT_MISSED,
    SERIAL_POOL_LOW,
)

S = AlarmState


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def manager(clock: Clock) -> AlarmManager:
    return AlarmManager(clock=clock, definitions=RUNTIME_ALARMS)


@pytest.fixture
def journal(manager: AlarmManager) -> list[AlarmTransition]:
    seen: list[AlarmTransition] = []
    manager.subscribe(seen.append)
    return seen


def test_activate_acknowledge_clear(
    manager: AlarmManager, journal: list[AlarmTransition], clock: Clock
) -> None:
    alarm = manager.activate("DEVICE_FAULT", "printer-1", "printer does not answer")
    assert alarm.state is S.UNACK_ACTIVE
    assert alarm.detail == "printer does not answer"
    assert alarm.activated_at == clock.now
    clock.advance(5)
    alarm = manager.acknowledge("DEVICE_FAULT", "printer-1", "li.wei", "calling maintenance")
    assert alarm.state is S.ACK_ACTIVE
    assert (alarm.acknowledged_by, alarm.ack_comment) == ("li.wei", "calling maintenance")
    assert manager.clear("DEVICE_FAULT", "printer-1").state is S.NORMAL
    assert [(t.old, t.new, t.user) for t in journal] == [
        (S.NORMAL, S.UNACK_ACTIVE, None),
        (S.UNACK_ACTIVE, S.ACK_ACTIVE, "li.wei"),
        (S.ACK_ACTIVE, S.NORMAL, None),
    ]
    first = journal[0]
    assert (first.alarm_id, first.source, first.detail) == (
        "DEVICE_FAULT",
        "printer-1",
        "printer does not answer",
    )
    assert journal[1].at == clock.now


def test_activate_is_idempotent_and_counts_recurrences(
    manager: AlarmManager, journal: list[AlarmTransition]
) -> None:
    manager.activate("DUPLICATE_TRIGGER", "plc", "unit 1")
    manager.activate("DUPLICATE_TRIGGER", "plc", "unit 2")
    alarm = manager.activate("DUPLICATE_TRIGGER", "plc", "unit 3")
    assert len(journal) == 1
    assert (alarm.activations, alarm.recurrences, alarm.detail) == (1, 2, "unit 3")


def test_sources_are_separate_alarms(manager: AlarmManager) -> None:
    manager.activate("DEVICE_FAULT", "printer-1")
    assert manager.get("DEVICE_FAULT", "camera-1").state is S.NORMAL
    assert manager.get("DEVICE_FAULT", "printer-1").state is S.UNACK_ACTIVE


def test_clear_of_an_inactive_alarm_changes_nothing(
    manager: AlarmManager, journal: list[AlarmTransition]
) -> None:
    assert manager.clear("LOOP_LAG", "loop").state is S.NORMAL
    assert journal == []


def test_clear_before_acknowledge_leaves_it_for_the_operator(manager: AlarmManager) -> None:
    manager.activate("LATE_VERDICT", "line-1")
    assert manager.clear("LATE_VERDICT", "line-1").state is S.RTN_UNACK
    assert [alarm.id for alarm in manager.active()] == ["LATE_VERDICT"]
    assert manager.acknowledge("LATE_VERDICT", "line-1", "op").state is S.NORMAL
    assert manager.active() == []


def test_unknown_alarms_are_a_clear_error(manager: AlarmManager) -> None:
    with pytest.raises(UnknownAlarmError) as info:
        manager.activate("NO_SUCH_ALARM", "x")
    assert info.value.alarm == "NO_SUCH_ALARM"
    assert info.value.hint is not None
    assert "DEVICE_FAULT" in info.value.hint


def test_defining_an_alarm_twice_is_refused(manager: AlarmManager) -> None:
    with pytest.raises(AlarmError, match="defined twice"):
        manager.define(DEVICE_FAULT)


@pytest.mark.parametrize("user", ["", "  "])
def test_acknowledge_requires_a_user(manager: AlarmManager, user: str) -> None:
    manager.activate("DEVICE_FAULT", "printer-1")
    with pytest.raises(AlarmError, match="user is empty") as info:
        manager.acknowledge("DEVICE_FAULT", "printer-1", user)
    assert info.value.hint == "acknowledging an alarm requires the operator's name"
    assert manager.get("DEVICE_FAULT", "printer-1").state is S.UNACK_ACTIVE


def test_acknowledging_a_normal_alarm_is_illegal_and_changes_nothing(
    manager: AlarmManager, journal: list[AlarmTransition]
) -> None:
    with pytest.raises(IllegalAlarmEventError, match="DEVICE_FAULT at printer-1: cannot ack"):
        manager.acknowledge("DEVICE_FAULT", "printer-1", "op")
    assert journal == []
    assert manager.standing() == []


def test_shelving_expires_on_tick(
    manager: AlarmManager, journal: list[AlarmTransition], clock: Clock
) -> None:
    manager.activate("SERIAL_POOL_LOW", "line-1", "950 left")
    alarm = manager.shelve("SERIAL_POOL_LOW", "line-1", "op", 600, "codes ordered")
    assert alarm.state is S.SHELVED
    assert alarm.shelved_until == clock.now + timedelta(seconds=600)
    assert manager.active() == []
    assert [a.id for a in manager.standing()] == ["SERIAL_POOL_LOW"]
    clock.advance(599)
    assert manager.tick() == []
    clock.advance(1)
    (back,) = manager.tick()
    assert back.state is S.UNACK_ACTIVE
    assert back.shelved_until is None
    assert journal[-1].old is S.SHELVED
    assert journal[-1].new is S.UNACK_ACTIVE


def test_a_shelved_alarm_that_cleared_comes_back_normal(
    manager: AlarmManager, journal: list[AlarmTransition]
) -> None:
    manager.activate("LOOP_LAG", "loop")
    manager.shelve("LOOP_LAG", "loop", "op", 60, "known load test")
    manager.clear("LOOP_LAG", "loop")
    assert journal[-1].old is journal[-1].new is S.SHELVED
    assert journal[-1].condition_active is False
    assert manager.unshelve("LOOP_LAG", "loop", "op").state is S.NORMAL


def test_shelving_is_checked(manager: AlarmManager) -> None:
    manager.activate("REJECT_MISSED", "gate")
    with pytest.raises(AlarmError, match="cannot be shelved"):
        manager.shelve("REJECT_MISSED", "gate", "op", 60, "annoying")
    with pytest.raises(AlarmError, match="reason is empty"):
        manager.shelve("LOOP_LAG", "loop", "op", 60, "")
    with pytest.raises(AlarmError, match="out of range") as info:
        manager.shelve("LOOP_LAG", "loop", "op", 9 * 3600, "long")
    assert info.value.hint == "shelve for more than 0 and at most 28800 s"


def test_suppression_and_service(manager: AlarmManager) -> None:
    manager.activate("DEVICE_FAULT", "camera-1")
    assert manager.suppress("DEVICE_FAULT", "camera-1", "line stopped").state is S.SUPPRESSED
    assert manager.unsuppress("DEVICE_FAULT", "camera-1").state is S.UNACK_ACTIVE
    manager.remove_from_service("DEVICE_FAULT", "camera-1", "eng", "camera replaced")
    manager.clear("DEVICE_FAULT", "camera-1")
    assert manager.return_to_service("DEVICE_FAULT", "camera-1", "eng").state is S.NORMAL


def test_banner_order_is_priority_then_newest(manager: AlarmManager, clock: Clock) -> None:
    manager.activate(DUPLICATE_TRIGGER.id, "plc")
    clock.advance(1)
    manager.activate(DEVICE_FAULT.id, "printer-1")
    clock.advance(1)
    manager.activate(SERIAL_POOL_LOW.id, "line-1")
    clock.advance(1)
    manager.activate(DEVICE_FAULT.id, "camera-1")
    clock.advance(1)
    manager.activate(REJECT_MISSED.id, "gate")
    manager.activate(LOOP_LAG.id, "loop")
    manager.shelve(LOOP_LAG.id, "loop", "op", 60, "load test")
    assert [(a.id, a.source) for a in manager.active()] == [
        ("REJECT_MISSED", "gate"),
        ("DEVICE_FAULT", "camera-1"),
        ("DEVICE_FAULT", "printer-1"),
        ("SERIAL_POOL_LOW", "line-1"),
        ("DUPLICATE_TRIGGER", "plc"),
    ]
    assert ("LOOP_LAG", "loop") in [(a.id, a.source) for a in manager.standing()]
    assert len(manager.standing()) == 6


def test_a_failing_listener_does_not_silence_the_others(manager: AlarmManager) -> None:
    heard: list[AlarmTransition] = []

    def broken(transition: AlarmTransition) -> None:
        raise OSError("journal disk full")

    manager.subscribe(broken)
    unsubscribe = manager.subscribe(heard.append)
    with pytest.raises(OSError, match="journal disk full"):
        manager.activate("DEVICE_FAULT", "printer-1")
    assert len(heard) == 1
    assert manager.get("DEVICE_FAULT", "printer-1").state is S.UNACK_ACTIVE
    unsubscribe()


def test_custom_definitions() -> None:
    manager = AlarmManager()
    manager.define(AlarmDefinition("TEMP_HIGH", Priority.LOW, "Too warm.", "process"))
    assert manager.activate("TEMP_HIGH", "zone-1").definition.priority is Priority.LOW


SOURCES = ("a", "b")


class ManagedAlarms(RuleBasedStateMachine):
    """Random calls on the manager; the journal replays to the manager's states."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.manager = AlarmManager(clock=self.clock, definitions=RUNTIME_ALARMS)
        self.journal: list[AlarmTransition] = []
        self.manager.subscribe(self.journal.append)
        self.condition: dict[str, bool] = dict.fromkeys(SOURCES, False)

    @rule(source=st.sampled_from(SOURCES))
    def activate(self, source: str) -> None:
        self.manager.activate("LOOP_LAG", source, "slow")
        self.condition[source] = True

    @rule(source=st.sampled_from(SOURCES))
    def clear(self, source: str) -> None:
        before = self.manager.get("LOOP_LAG", source).state
        after = self.manager.clear("LOOP_LAG", source).state
        self.condition[source] = False
        if before is S.ACK_ACTIVE:
            assert after is S.NORMAL
        if before is S.UNACK_ACTIVE:
            assert after is S.RTN_UNACK

    @rule(source=st.sampled_from(SOURCES))
    def acknowledge(self, source: str) -> None:
        before = self.manager.get("LOOP_LAG", source)
        try:
            after = self.manager.acknowledge("LOOP_LAG", source, "op")
        except IllegalAlarmEventError:
            assert self.manager.get("LOOP_LAG", source) == before
            return
        assert after.state is not S.UNACK_ACTIVE
        assert after.condition_active is before.condition_active

    @rule(source=st.sampled_from(SOURCES), duration=st.integers(1, 100))
    def shelve(self, source: str, duration: int) -> None:
        try:
            self.manager.shelve("LOOP_LAG", source, "op", duration, "testing")
        except IllegalAlarmEventError:
            assert self.manager.get("LOOP_LAG", source).state is S.SHELVED

    @rule(source=st.sampled_from(SOURCES))
    def unshelve(self, source: str) -> None:
        try:
            self.manager.unshelve("LOOP_LAG", source, "op")
        except IllegalAlarmEventError:
            assert self.manager.get("LOOP_LAG", source).state is not S.SHELVED

    @rule(seconds=st.integers(0, 120))
    def wait(self, seconds: int) -> None:
        self.clock.advance(seconds)
        self.manager.tick()

    @invariant()
    def conditions_are_tracked(self) -> None:
        for source in SOURCES:
            assert self.manager.get("LOOP_LAG", source).condition_active is self.condition[source]

    @invariant()
    def the_journal_replays_to_the_current_states(self) -> None:
        last: dict[str, AlarmState] = dict.fromkeys(SOURCES, S.NORMAL)
        for transition in self.journal:
            assert transition.old is last[transition.source]
            last[transition.source] = transition.new
        for source in SOURCES:
            assert self.manager.get("LOOP_LAG", source).state is last[source]

    @invariant()
    def the_banner_shows_what_is_not_normal_and_not_hidden(self) -> None:
        shown = {alarm.source for alarm in self.manager.active()}
        for source in SOURCES:
            state = self.manager.get("LOOP_LAG", source).state
            visible = state in (S.UNACK_ACTIVE, S.ACK_ACTIVE, S.RTN_UNACK)
            assert (source in shown) is visible


ManagedAlarms.TestCase.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
TestManagedAlarms = ManagedAlarms.TestCase
