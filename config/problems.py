"""What the config checker says about a site file: located problems, reports, and the error."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from config.site import SiteConfig

FILE = "(file)"
"""Location of a problem with the file as a whole: missing, unreadable, empty, bad YAML."""

Loc = tuple[str | int, ...]
"""A path into the site document: ``("products", 2, "gtin")``."""


def format_location(loc: Loc) -> str:
    """``("products", 2, "gtin")`` -> ``products[2].gtin``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or FILE


class Severity(StrEnum):
    ERROR = "error"
    """The site cannot run with this file."""
    WARNING = "warning"
    """The file is valid, but something needs attention before production (e.g. a missing key)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding, pointing at the key in the file a person has to change.

    `location` is a path into the file such as ``products[2].gtin`` (or `FILE`); `line` is the
    1-based line of that key in the YAML text when it is known.
    """

    location: str
    line: int | None
    message: str
    hint: str | None = None
    severity: Severity = Severity.ERROR

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem before it is placed in the file: `loc` becomes a location and a line."""

    loc: Loc
    message: str
    hint: str | None = None
    severity: Severity = Severity.ERROR


def format_problem(problem: Problem, filename: str) -> str:
    """``demo.yaml:41: products[2].gtin: check digit should be 3 (fix: …)``.

    Warnings carry a ``warning:`` tag so that the two can be told apart in a terminal or a log.
    """
    where = f"{filename}:{problem.line}" if problem.line is not None else filename
    tag = "warning: " if problem.severity is Severity.WARNING else ""
    text = f"{where}: {tag}{problem.location}: {problem.message}"
    if problem.hint:
        text += f" (fix: {problem.hint})"
    return text


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """In file order: by line, unknown lines last, errors before warnings on the same line."""
    return sorted(
        problems,
        key=lambda p: (p.line is None, p.line or 0, p.severity is Severity.WARNING),
    )


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Everything found in one site file; `config` is set only when there is no error."""

    path: str
    problems: Sequence[Problem]
    config: SiteConfig | None = field(default=None, compare=False)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self, filename: str | None = None) -> list[str]:
        """Every problem formatted with `format_problem`, in file order."""
        name = self.path if filename is None else filename
        return [format_problem(p, name) for p in self.problems]


class ConfigError(Exception):
    """The site file has errors; `problems` holds every one of them (and any warnings)."""

    def __init__(self, path: str, problems: Sequence[Problem]) -> None:
        self.path = path
        self.problems = list(problems)
        errors = [p for p in self.problems if p.is_error]
        shown = "\n".join(format_problem(p, path) for p in errors)
        super().__init__(f"{path}: {len(errors)} error(s) in the site configuration\n{shown}")

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]


class InvalidValue(ValueError):  # noqa: N818 - pydantic turns ValueErrors into its own errors
    """Raised by model validators: a message for the person, and how to fix it.

    A model-level validator names the `field` the problem is about, so that it is reported
    there rather than at the whole entry.
    """

    def __init__(self, message: str, *, hint: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.field = field

    def __str__(self) -> str:
        return self.message
