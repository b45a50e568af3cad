"""The batch's steps go in one order only: a step, or an entry of a section, before its
predecessors is refused with the missing step named, and the refusal is in the audit trail."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import Engine

from ebr.audit.actor import GATEWAY
from ebr.errors import NotFoundError
from ebr.execution import ExecutionError, SequenceError, Source, Step
from tests.ebr.execution.execution_fixtures import BEFORE_REVIEW, ExecutionSite


@pytest.fixture
def site(engine: Engine) -> ExecutionSite:
    return ExecutionSite(engine)


def test_steps_go_in_order_each_once_and_a_refusal_is_audited(site: ExecutionSite) -> None:
    olga = site.session("olga")
    site.record.complete_step(site.batch, Step.HEADER, olga)
    with pytest.raises(SequenceError, match="before step clearance is done") as refused:
        site.record.complete_step(site.batch, Step.SETUP, olga)
    assert refused.value.missing == "clearance"
    assert refused.value.hint is not None
    assert "complete step clearance first" in refused.value.hint
    assert [s.step for s in site.record.steps(site.batch)] == [Step.HEADER]
    (entry,) = site.trail.entries(event="ebr.step_refused")
    assert (entry.object_id, entry.username) == (f"{site.batch}:setup", "olga")
    assert entry.new == {"attempted": "step setup", "missing": "clearance"}
    with pytest.raises(ExecutionError, match="already completed") as again:
        site.record.complete_step(site.batch, "header", GATEWAY)
    assert again.value.hint == "a step is completed once; read steps() for what is done"

    site.complete_through(Step.MATERIALS_RECONCILED)
    done = site.record.steps(site.batch)
    assert [s.step for s in done] == list(BEFORE_REVIEW)
    assert {s.done_by for s in done} == {"olga"}
    assert len(site.trail.entries(event="ebr.step_completed")) == len(BEFORE_REVIEW)
    for signed in (Step.REVIEW, Step.RELEASE):
        with pytest.raises(ExecutionError, match="completed by its signature"):
            site.record.complete_step(site.batch, signed, olga)
    with pytest.raises(ExecutionError, match="no step 'packing'") as unknown:
        site.record.complete_step(site.batch, "packing", GATEWAY)
    assert unknown.value.hint is not None
    assert "materials_reconciled" in unknown.value.hint
    with pytest.raises(NotFoundError, match="no batch 9999"):
        site.record.complete_step(9999, Step.HEADER, GATEWAY)


def test_entries_wait_for_their_step_and_production_sections_for_production(
    site: ExecutionSite,
) -> None:
    with pytest.raises(SequenceError, match="section setup is refused before step header"):
        site.record.record(site.batch, "setup", "format", "A5", source=Source.LINE, by=GATEWAY)
    header = site.record.record(site.batch, "header", "order", "PO-1", source="line", by=GATEWAY)
    site.complete_through(Step.SETUP)
    with pytest.raises(SequenceError, match="before step challenge is done") as refused:
        site.record.record(
            site.batch, "parameters", "speed", 120, unit="1/min", source="tag", by=GATEWAY
        )
    assert refused.value.missing == "challenge"
    site.record.complete_step(site.batch, Step.CHALLENGE, GATEWAY)
    speed = site.record.record(
        site.batch, "parameters", "speed", 120, unit="1/min", source="tag", by=GATEWAY
    )
    late_header = site.record.record(site.batch, "header", "note", "x", source="line", by=GATEWAY)
    assert [e.id for e in site.record.entries(site.batch)] == [header, speed, late_header]
    assert len(site.trail.entries(event="ebr.step_refused")) == 2


ORDINARY_STEPS = list(BEFORE_REVIEW)


def _machine(site: ExecutionSite) -> type[RuleBasedStateMachine]:
    class StepOrder(RuleBasedStateMachine):
        """Whatever steps are attempted, in whatever order: each one completes exactly when
        all before it are done, and a refusal names the first one missing."""

        def __init__(self) -> None:
            super().__init__()
            self.batch = site.new_batch()
            self.done: list[Step] = []

        @rule(step=st.sampled_from(ORDINARY_STEPS))
        def complete(self, step: Step) -> None:
            before = ORDINARY_STEPS[: ORDINARY_STEPS.index(step)]
            missing = next((s for s in before if s not in self.done), None)
            if step in self.done:
                with pytest.raises(ExecutionError, match="already completed"):
                    site.record.complete_step(self.batch, step, GATEWAY)
            elif missing is not None:
                with pytest.raises(SequenceError) as refused:
                    site.record.complete_step(self.batch, step, GATEWAY)
                assert refused.value.missing == missing.value
            else:
                site.record.complete_step(self.batch, step, GATEWAY)
                self.done.append(step)

        @invariant()
        def only_a_prefix_is_ever_done(self) -> None:
            done = [s.step for s in site.record.steps(self.batch)]
            assert done == self.done
            assert done == ORDINARY_STEPS[: len(done)]

    return StepOrder


def test_no_order_of_calls_completes_a_step_before_its_predecessors(engine: Engine) -> None:
    site = ExecutionSite(engine)
    run_state_machine_as_test(
        _machine(site),
        settings=settings(
            max_examples=8,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
