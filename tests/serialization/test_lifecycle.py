"""The batch lifecycle table, the challenge policy and `BatchLifecycle` over random actions."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from serialization.errors import IllegalTransitionError, SerializationError
from serialization.lifecycle import (
    FINAL,
    NO_CHALLENGE,
    TRANSITIONS,
    BatchAction,
    BatchLifecycle,
    BatchPhase,
    ChallengePolicy,
    ChallengeRequirement,
    IllegalBatchActionError,
    allowed_actions,
    may_produce,
    next_phase,
)

P = BatchPhase
A = BatchAction
ALL_PAIRS = tuple(itertools.product(BatchPhase, BatchAction))
ILLEGAL_PAIRS = tuple(pair for pair in ALL_PAIRS if pair not in TRANSITIONS)
REQUIREMENTS = st.builds(
    ChallengePolicy(300).required,
    stop_s=st.floats(0, 1000),
    format_changed=st.booleans(),
    material_changed=st.booleans(),
    gateway_restarted=st.booleans(),
)


def test_phases_fit_the_status_column() -> None:
    assert all(len(phase.value) <= 16 for phase in BatchPhase)


def test_the_happy_path() -> None:
    phase = P.DOWNLOADED
    for action, expected in [
        (A.BEGIN_CLEARANCE, P.CLEARANCE),
        (A.CLEARANCE_SIGNED, P.CHALLENGE),
        (A.CHALLENGE_FAILED, P.CHALLENGE),
        (A.CHALLENGE_PASSED, P.RUNNING),
        (A.HOLD, P.HELD),
        (A.RESUME, P.RUNNING),
        (A.COMPLETE, P.COMPLETING),
        (A.RECONCILED, P.RECONCILED),
        (A.RELEASE, P.RELEASED),
    ]:
        phase = next_phase(phase, action)
        assert phase is expected


def test_qa_may_reject_a_reconciled_batch() -> None:
    assert next_phase(P.RECONCILED, A.REJECT) is P.REJECTED


def test_resume_goes_to_challenge_when_one_is_required() -> None:
    assert next_phase(P.HELD, A.RESUME, challenge_required=True) is P.CHALLENGE
    assert next_phase(P.HELD, A.RESUME, challenge_required=False) is P.RUNNING


def test_require_challenge_from_running_and_held() -> None:
    assert next_phase(P.RUNNING, A.REQUIRE_CHALLENGE) is P.CHALLENGE
    assert next_phase(P.HELD, A.REQUIRE_CHALLENGE) is P.CHALLENGE


def test_only_running_may_produce() -> None:
    assert [phase for phase in BatchPhase if may_produce(phase)] == [P.RUNNING]


def test_final_phases_allow_nothing() -> None:
    for phase in FINAL:
        assert allowed_actions(phase) == ()


def test_running_is_reached_only_by_a_passed_challenge_or_a_resume() -> None:
    into_running = {pair for pair, target in TRANSITIONS.items() if target is P.RUNNING}
    assert into_running == {(P.CHALLENGE, A.CHALLENGE_PASSED), (P.HELD, A.RESUME)}


@pytest.mark.parametrize(("phase", "action"), ILLEGAL_PAIRS, ids=str)
def test_illegal_action_names_phase_action_and_allowed(
    phase: BatchPhase, action: BatchAction
) -> None:
    with pytest.raises(IllegalBatchActionError) as info:
        next_phase(phase, action, batch="B-1")
    error = info.value
    assert isinstance(error, IllegalTransitionError)
    assert isinstance(error, SerializationError)
    assert (error.phase, error.action, error.field) == (phase, action, "B-1")
    assert error.allowed == allowed_actions(phase)
    assert phase.value in str(error)
    assert action.value in str(error)
    assert error.hint is not None
    for allowed in error.allowed:
        assert allowed.value in error.hint
    if not error.allowed:
        assert "none (final phase)" in error.hint


def test_illegal_resume_is_illegal_even_when_a_challenge_is_required() -> None:
    with pytest.raises(IllegalBatchActionError):
        next_phase(P.RUNNING, A.RESUME, challenge_required=True)


# --- The challenge policy ------------------------------------------------------------------------


def test_no_reason_no_challenge() -> None:
    assert ChallengePolicy(300).required() == NO_CHALLENGE
    assert ChallengePolicy(300).required(stop_s=300) == NO_CHALLENGE


def test_every_reason_is_named() -> None:
    requirement = ChallengePolicy(300).required(
        stop_s=301, format_changed=True, material_changed=True, gateway_restarted=True
    )
    assert requirement.required
    assert requirement.reasons == (
        "line stopped for 301 s (longer than 300 s)",
        "format change",
        "material change",
        "gateway restart",
    )


def test_requirements_combine_without_repeating_reasons() -> None:
    restart = ChallengePolicy(60).required(gateway_restarted=True)
    material = ChallengePolicy(60).required(material_changed=True)
    combined = restart | material | restart
    assert combined.reasons == ("gateway restart", "material change")
    assert NO_CHALLENGE | NO_CHALLENGE == NO_CHALLENGE


def test_requirement_is_consistent() -> None:
    with pytest.raises(ValueError, match="exactly when"):
        ChallengeRequirement(True, ())
    with pytest.raises(ValueError, match="exactly when"):
        ChallengeRequirement(False, ("x",))
    with pytest.raises(ValueError, match="positive"):
        ChallengePolicy(0)


@given(REQUIREMENTS)
def test_required_iff_reasons(requirement: ChallengeRequirement) -> None:
    assert requirement.required == bool(requirement.reasons)


def test_a_requirement_while_running_stops_production() -> None:
    batch = BatchLifecycle(P.RUNNING)
    required = batch.require(ChallengePolicy(60).required(format_changed=True))
    assert required.phase is P.CHALLENGE
    assert not required.may_produce
    assert required.pending.reasons == ("format change",)
    passed = required.apply(A.CHALLENGE_PASSED)
    assert passed.phase is P.RUNNING
    assert passed.pending == NO_CHALLENGE


def test_a_long_stop_while_held_sends_resume_to_challenge() -> None:
    held = BatchLifecycle(P.HELD).require(ChallengePolicy(60).required(stop_s=3600))
    assert held.phase is P.HELD
    assert held.apply(A.RESUME).phase is P.CHALLENGE
    assert BatchLifecycle(P.HELD).require(NO_CHALLENGE).apply(A.RESUME).phase is P.RUNNING


# --- Random lives of a batch ---------------------------------------------------------------------


class BatchLife(RuleBasedStateMachine):
    """Random actions and challenge requirements, legal or not, applied to one batch."""

    def __init__(self) -> None:
        super().__init__()
        self.batch = BatchLifecycle()
        self.challenge_passed_since_last_gate = False

    @rule(action=st.sampled_from(tuple(BatchAction)))
    def act(self, action: BatchAction) -> None:
        before = self.batch
        if (before.phase, action) not in TRANSITIONS:
            with pytest.raises(IllegalBatchActionError):
                before.apply(action)
            assert self.batch == before
            return
        self.batch = before.apply(action)
        if action is A.CHALLENGE_PASSED:
            self.challenge_passed_since_last_gate = True
        if action in (A.CLEARANCE_SIGNED, A.REQUIRE_CHALLENGE):
            self.challenge_passed_since_last_gate = False
        if before.phase is not P.RUNNING and self.batch.phase is P.RUNNING:
            assert action in (A.CHALLENGE_PASSED, A.RESUME)

    @rule(requirement=REQUIREMENTS)
    def require(self, requirement: ChallengeRequirement) -> None:
        self.batch = self.batch.require(requirement)
        if requirement.required:
            self.challenge_passed_since_last_gate = False

    @invariant()
    def never_running_without_a_passed_challenge(self) -> None:
        if self.batch.may_produce:
            assert self.challenge_passed_since_last_gate
            assert self.batch.pending == NO_CHALLENGE

    @invariant()
    def a_pending_requirement_keeps_the_line_from_producing(self) -> None:
        if self.batch.pending.required:
            assert self.batch.phase is not P.RUNNING


BatchLife.TestCase.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)
TestBatchLife = BatchLife.TestCase


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(tuple(BatchAction)), max_size=50))
def test_random_walk_of_phases_stays_in_the_table(actions: list[BatchAction]) -> None:
    phase = P.DOWNLOADED
    for action in actions:
        try:
            target = next_phase(phase, action)
        except IllegalBatchActionError:
            assert (phase, action) not in TRANSITIONS
            continue
        assert target is TRANSITIONS[(phase, action)]
        phase = target
