"""The life of one batch on one line, as one transition table, and when it needs a new challenge.

A batch is downloaded, the line is cleared (and the clearance signed), the vision system proves it
rejects bad codes (the challenge test), and only then may the line produce. Anything that may have
changed what the camera sees — a long stop, a format or material change, a gateway restart —
requires a new challenge before production resumes. After completion the batch is reconciled and
QA releases or rejects it.

`BatchLifecycle` keeps the phase and the pending challenge requirement together, so the rule
"never Running without a passed challenge after the last clearance or requirement" holds by
construction. Sans-IO: no clock, no store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from serialization.errors import IllegalTransitionError


class BatchPhase(StrEnum):
    """A batch's phase, stored as its value in `batches.status` (at most 16 characters)."""

    DOWNLOADED = "downloaded"
    CLEARANCE = "clearance"
    CHALLENGE = "challenge"
    RUNNING = "running"
    HELD = "held"
    COMPLETING = "completing"
    RECONCILED = "reconciled"
    RELEASED = "released"
    REJECTED = "rejected"


class BatchAction(StrEnum):
    BEGIN_CLEARANCE = "begin_clearance"
    CLEARANCE_SIGNED = "clearance_signed"
    CHALLENGE_PASSED = "challenge_passed"
    CHALLENGE_FAILED = "challenge_failed"
    HOLD = "hold"
    RESUME = "resume"
    REQUIRE_CHALLENGE = "require_challenge"
    COMPLETE = "complete"
    RECONCILED = "reconciled"
    RELEASE = "release"
    REJECT = "reject"


P = BatchPhase
A = BatchAction

#: Every legal move. A failed challenge stays in Challenge (the operator fixes the line and
#: repeats it). Resume from Held goes to Running here; `next_phase` sends it to Challenge
#: instead when a challenge is required.
TRANSITIONS: Final[dict[tuple[BatchPhase, BatchAction], BatchPhase]] = {
    (P.DOWNLOADED, A.BEGIN_CLEARANCE): P.CLEARANCE,
    (P.CLEARANCE, A.CLEARANCE_SIGNED): P.CHALLENGE,
    (P.CHALLENGE, A.CHALLENGE_PASSED): P.RUNNING,
    (P.CHALLENGE, A.CHALLENGE_FAILED): P.CHALLENGE,
    (P.RUNNING, A.HOLD): P.HELD,
    (P.HELD, A.RESUME): P.RUNNING,
    (P.RUNNING, A.REQUIRE_CHALLENGE): P.CHALLENGE,
    (P.HELD, A.REQUIRE_CHALLENGE): P.CHALLENGE,
    (P.RUNNING, A.COMPLETE): P.COMPLETING,
    (P.HELD, A.COMPLETE): P.COMPLETING,
    (P.COMPLETING, A.RECONCILED): P.RECONCILED,
    (P.RECONCILED, A.RELEASE): P.RELEASED,
    (P.RECONCILED, A.REJECT): P.REJECTED,
}

FINAL: Final = frozenset({P.RELEASED, P.REJECTED})


class IllegalBatchActionError(IllegalTransitionError):
    """An action was asked of a batch in a phase where the table does not allow it."""

    def __init__(self, phase: BatchPhase, action: BatchAction, *, batch: str | None = None):
        self.phase = phase
        self.action = action
        self.allowed = allowed_actions(phase)
        listed = ", ".join(self.allowed) or "none (final phase)"
        super().__init__(
            f"action {action.value} is not allowed in batch phase {phase.value}",
            field=batch,
            hint=f"in phase {phase.value} a batch allows: {listed}",
        )


def allowed_actions(phase: BatchPhase) -> tuple[BatchAction, ...]:
    """The actions legal in `phase`, in declaration order."""
    return tuple(action for action in BatchAction if (phase, action) in TRANSITIONS)


def next_phase(
    phase: BatchPhase,
    action: BatchAction,
    *,
    challenge_required: bool = False,
    batch: str | None = None,
) -> BatchPhase:
    """The phase after `action`, or `IllegalBatchActionError` (naming the allowed actions).

    `challenge_required` only matters for Resume: a held batch that needs a new challenge goes
    to Challenge, not Running.
    """
    target = TRANSITIONS.get((phase, action))
    if target is None:
        raise IllegalBatchActionError(phase, action, batch=batch)
    if action is A.RESUME and challenge_required:
        return P.CHALLENGE
    return target


def may_produce(phase: BatchPhase) -> bool:
    """Whether the line may print and accept units: only while Running."""
    return phase is P.RUNNING


@dataclass(frozen=True)
class ChallengeRequirement:
    """Whether a new challenge test is due, and every reason why (operator-readable)."""

    required: bool
    reasons: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.required != bool(self.reasons):
            raise ValueError("a challenge requirement is required exactly when it has reasons")

    def __or__(self, other: ChallengeRequirement) -> ChallengeRequirement:
        """Both requirements together (reasons in order, each once)."""
        reasons = tuple(dict.fromkeys(self.reasons + other.reasons))
        return ChallengeRequirement(bool(reasons), reasons)


NO_CHALLENGE: Final = ChallengeRequirement(False)


@dataclass(frozen=True)
class ChallengePolicy:
    """When a new challenge test is required before production may resume."""

    max_stop_s: float

    def __post_init__(self) -> None:
        if not self.max_stop_s > 0:
            raise ValueError(f"max_stop_s must be positive, got {self.max_stop_s}")

    def required(
        self,
        *,
        stop_s: float = 0.0,
        format_changed: bool = False,
        material_changed: bool = False,
        gateway_restarted: bool = False,
    ) -> ChallengeRequirement:
        reasons: list[str] = []
        if stop_s > self.max_stop_s:
            reasons.append(f"line stopped for {stop_s:.0f} s (longer than {self.max_stop_s:g} s)")
        if format_changed:
            reasons.append("format change")
        if material_changed:
            reasons.append("material change")
        if gateway_restarted:
            reasons.append("gateway restart")
        return ChallengeRequirement(bool(reasons), tuple(reasons))


@dataclass(frozen=True)
class BatchLifecycle:
    """A batch's phase together with the challenge requirement still pending.

    `apply` refuses illegal actions without changing anything (it returns a new value).
    A passed challenge clears the requirement; `require` records one and, while Running, moves
    the batch straight to Challenge so that it stops producing.
    """

    phase: BatchPhase = P.DOWNLOADED
    pending: ChallengeRequirement = field(default=NO_CHALLENGE)

    def apply(self, action: BatchAction, *, batch: str | None = None) -> BatchLifecycle:
        phase = next_phase(
            self.phase, action, challenge_required=self.pending.required, batch=batch
        )
        pending = NO_CHALLENGE if action is A.CHALLENGE_PASSED else self.pending
        return BatchLifecycle(phase, pending)

    def require(self, requirement: ChallengeRequirement) -> BatchLifecycle:
        if not requirement.required:
            return self
        pending = self.pending | requirement
        if self.phase is P.RUNNING:
            return BatchLifecycle(next_phase(self.phase, A.REQUIRE_CHALLENGE), pending)
        return BatchLifecycle(self.phase, pending)

    @property
    def may_produce(self) -> bool:
        return may_produce(self.phase)
