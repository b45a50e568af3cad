"""One verdict per item the doctor checks, and the exit code they add up to."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"
    """Not checked because what it needs is missing (named in `what`); no effect on the exit
    code, since the missing prerequisite has its own verdict."""


@dataclass(frozen=True, slots=True)
class Verdict:
    item: str
    status: Status
    what: str
    where: str | None = None
    fix: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {
            "item": self.item,
            "status": self.status.value,
            "what": self.what,
            "where": self.where,
            "fix": self.fix,
        }


def exit_code(verdicts: Iterable[Verdict]) -> int:
    """0 when every item is ok, 1 with warnings, 2 with a failure."""
    statuses = {verdict.status for verdict in verdicts}
    if Status.FAIL in statuses:
        return 2
    if Status.WARN in statuses:
        return 1
    return 0
