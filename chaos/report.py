"""What a campaign found: per trial its kind, seed, duration and invariants; totals; the JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class InvariantResult:
    name: str
    passed: bool
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrialResult:
    kind: str
    seed: int
    number: int
    duration_s: float = 0.0
    fault: dict[str, Any] = field(default_factory=dict)
    """What was done to the line, for reproducing it."""
    invariants: list[InvariantResult] = field(default_factory=list)
    error: str | None = None
    """The trial itself could not run (a gateway that never started): counted as failed."""

    @property
    def passed(self) -> bool:
        return self.error is None and all(result.passed for result in self.invariants)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "number": self.number,
            "seed": self.seed,
            "duration_s": round(self.duration_s, 2),
            "fault": self.fault,
            "passed": self.passed,
            "error": self.error,
            "invariants": [
                {"name": r.name, "passed": r.passed, "details": r.details} for r in self.invariants
            ],
        }


@dataclass
class CampaignReport:
    seed: int
    trials: list[TrialResult] = field(default_factory=list)
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    notes: list[str] = field(default_factory=list)
    """What was skipped and why (a fault the machine cannot make)."""

    def totals(self) -> dict[str, Any]:
        kinds: dict[str, dict[str, int]] = {}
        violations: dict[str, int] = {}
        for trial in self.trials:
            counts = kinds.setdefault(trial.kind, {"trials": 0, "passed": 0, "failed": 0})
            counts["trials"] += 1
            counts["passed" if trial.passed else "failed"] += 1
            for result in trial.invariants:
                if not result.passed:
                    violations[result.name] = violations.get(result.name, 0) + 1
        return {
            "trials": len(self.trials),
            "passed": sum(trial.passed for trial in self.trials),
            "failed": sum(not trial.passed for trial in self.trials),
            "invariant_violations": sum(violations.values()),
            "violations_by_invariant": violations,
            "by_kind": kinds,
            "duration_s": round(sum(trial.duration_s for trial in self.trials), 1),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "started": self.started,
            "seed": self.seed,
            "totals": self.totals(),
            "notes": self.notes,
            "trials": [trial.to_dict() for trial in self.trials],
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = path.with_suffix(".tmp")
        staging.write_text(json.dumps(self.to_dict(), indent=2, default=str) + "\n", "utf-8")
        staging.replace(path)

    def summary(self) -> str:
        totals = self.totals()
        lines = [
            f"chaos: {totals['trials']} trials, {totals['passed']} passed, {totals['failed']} "
            f"failed, {totals['invariant_violations']} invariant violations, "
            f"{totals['duration_s']} s"
        ]
        for kind, counts in totals["by_kind"].items():
            lines.append(f"  {kind:<8} {counts['passed']}/{counts['trials']} passed")
        for trial in self.trials:
            if not trial.passed:
                broken = [r.name for r in trial.invariants if not r.passed]
                lines.append(
                    f"  FAILED {trial.kind} #{trial.number} (seed {trial.seed}): "
                    f"{trial.error or ', '.join(broken)}"
                )
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)
