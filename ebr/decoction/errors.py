"""Errors of the decoction pieces record: each names the field or file, what is wrong and how
to put it right; a refused record or file writes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ebr.errors import StoreError


class DecoctionError(StoreError):
    pass


@dataclass(frozen=True, slots=True)
class FieldProblem:
    path: str
    """Where in the record: `cooperative.phone`, `agrochemical_records[1].unit`."""
    label: str
    """The field's Chinese and English name."""
    problem: str
    fix: str

    def __str__(self) -> str:
        return (
            f"{self.path} {self.label}: {self.problem}"
            if self.label
            else f"{self.path}: {self.problem}"
        )


class InvalidRecordError(DecoctionError):
    """A record that does not satisfy the annex's fields; `problems` lists every one found."""

    def __init__(self, what: str, problems: Sequence[FieldProblem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        listed = "; ".join(str(problem) for problem in self.problems)
        fixes = "; ".join(dict.fromkeys(problem.fix for problem in self.problems))
        super().__init__(
            f"{what} has {count} problem{'s' if count > 1 else ''}: {listed}",
            hint=f"{fixes}; nothing was recorded",
        )


class AttachmentRejectedError(DecoctionError):
    pass


class AttachmentCorruptError(DecoctionError):
    """Stored content that no longer matches the SHA-256 recorded when it was added."""


class RecordConflictError(DecoctionError):
    pass
