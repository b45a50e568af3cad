"""The enforced order of a batch's steps, and which step each section of entries belongs to.

A step is completed only when every step before it is done; an entry of a section is accepted
only once its step may start (its predecessors done). A refusal says which step is missing and
is written to the audit trail (`ebr.step_refused`), since an attempt out of order is itself
worth knowing. Steps only ever move forward, so a check made before the writing transaction
still holds when it commits.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select

from ebr.audit.actor import Actor
from ebr.errors import NotFoundError
from ebr.execution.context import Context, Who, actor_of
from ebr.execution.errors import ExecutionError, SequenceError
from ebr.execution.kinds import Step
from ebr.execution.models import ExecutionStepRow
from ebr.models import Batch

ORDER = tuple(Step)
PRODUCTION_SECTIONS = frozenset({"events", "parameters", "checks"})
"""Sections that belong to `production` and are accepted from `production` on."""
SIGNED_STEPS = {
    Step.REVIEW: "sign the audit-trail review (sign_audit_review)",
    Step.RELEASE: "release the batch with QA's signature (release)",
}
"""Steps completed only by their signature, never by `complete_step`."""
SECTIONS = tuple(step.value for step in ORDER) + tuple(sorted(PRODUCTION_SECTIONS))


@dataclass(frozen=True, slots=True)
class StepDone:
    step: Step
    done_at: datetime
    done_by: str | None
    done_by_user_id: int | None


def as_step(step: Step | str) -> Step:
    try:
        return Step(step)
    except ValueError:
        raise ExecutionError(
            f"there is no step {step!r}", hint=f"steps: {', '.join(s.value for s in ORDER)}"
        ) from None


def step_of(section: str) -> Step:
    """The step a section of entries belongs to."""
    if section in PRODUCTION_SECTIONS:
        return Step.PRODUCTION
    try:
        return Step(section)
    except ValueError:
        raise ExecutionError(
            f"there is no section {section!r}", hint=f"sections: {', '.join(SECTIONS)}"
        ) from None


def first_missing(step: Step, done: Collection[Step]) -> Step | None:
    """The first step before `step` that is not done, or None."""
    for earlier in ORDER[: ORDER.index(step)]:
        if earlier not in done:
            return earlier
    return None


def done_steps(conn: Connection, batch_id: int) -> list[StepDone]:
    rows = conn.execute(
        select(ExecutionStepRow)
        .where(ExecutionStepRow.batch_id == batch_id)
        .order_by(ExecutionStepRow.id)
    )
    return [StepDone(Step(r.step), r.done_at, r.done_by, r.done_by_user_id) for r in rows]


def batch_status(conn: Connection, batch_id: int) -> str:
    status = conn.execute(select(Batch.status).where(Batch.id == batch_id)).scalar_one_or_none()
    if status is None:
        raise NotFoundError(f"there is no batch {batch_id}", hint="check the batch ID")
    return str(status)


def insert_step(conn: Connection, ctx: Context, batch_id: int, step: Step, actor: Actor) -> None:
    """Write a step as done (in the caller's transaction), with its audit entry."""
    at = ctx.now()
    conn.execute(
        insert(ExecutionStepRow).values(
            batch_id=batch_id,
            step=step.value,
            done_at=at,
            done_by_user_id=actor.user_id,
            done_by=actor.username,
        )
    )
    ctx.trail.record(
        conn,
        [
            actor.event(
                "ebr.step_completed",
                "ebr_step",
                f"{batch_id}:{step.value}",
                action="create",
                new={"batch_id": batch_id, "step": step.value, "done_at": at},
            )
        ],
    )


class Steps:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def complete(
        self,
        batch_id: int,
        step: Step | str,
        who: Who,
        *,
        ready: Callable[[Connection], None] | None = None,
    ) -> StepDone:
        """Complete `step` once its predecessors are done; `ready`, run in the writing
        transaction before the step is inserted, raises when the step's own work is not."""
        step = as_step(step)
        actor = actor_of(who)
        if step in SIGNED_STEPS:
            raise ExecutionError(
                f"step {step.value} is completed by its signature", hint=SIGNED_STEPS[step]
            )
        done = self._may_start(batch_id, step, actor, f"step {step.value}")
        if step in done:
            previous = done[step]
            raise ExecutionError(
                f"step {step.value} of batch {batch_id} was already completed at "
                f"{previous.done_at} by {previous.done_by}",
                hint="a step is completed once; read steps() for what is done",
            )
        with self._ctx.writing() as conn:
            if ready is not None:
                ready(conn)
            insert_step(conn, self._ctx, batch_id, step, actor)
            return {s.step: s for s in done_steps(conn, batch_id)}[step]

    def done(self, batch_id: int) -> list[StepDone]:
        with self._ctx.engine.connect() as conn:
            batch_status(conn, batch_id)
            return done_steps(conn, batch_id)

    def require_section(self, batch_id: int, section: str, who: Who) -> Step:
        """The section's step, once it may start; else SequenceError (audited)."""
        step = step_of(section)
        self._may_start(batch_id, step, actor_of(who), f"an entry in section {section}")
        return step

    def _may_start(
        self, batch_id: int, step: Step, actor: Actor, what: str
    ) -> dict[Step, StepDone]:
        with self._ctx.engine.connect() as conn:
            batch_status(conn, batch_id)
            done = {s.step: s for s in done_steps(conn, batch_id)}
        missing = first_missing(step, done)
        if missing is None:
            return done
        self._ctx.refuse(
            actor.event(
                "ebr.step_refused",
                "ebr_step",
                f"{batch_id}:{step.value}",
                action="access",
                new={"attempted": what, "missing": missing.value},
            )
        )
        raise SequenceError(
            f"batch {batch_id}: {what} is refused before step {missing.value} is done",
            missing=missing.value,
            hint=f"complete step {missing.value} first (steps go "
            + " → ".join(s.value for s in ORDER)
            + ")",
        )
