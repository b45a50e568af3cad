"""What every command shares: loading the site file and reporting errors to a person."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn, TextIO

from config import ConfigError, SiteConfig, format_problem, load_site


class CommandError(Exception):
    """A failure the user can fix: printed as `error: message` and `fix: hint`, exit 1."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def fail(message: str, *, hint: str | None = None) -> NoReturn:
    raise CommandError(message, hint=hint)


def fail_from(error: Exception) -> NoReturn:
    """Re-raise one of our domain errors as a `CommandError`, message and hint apart."""
    message = getattr(error, "message", None) or (str(error.args[0]) if error.args else str(error))
    raise CommandError(message, hint=getattr(error, "hint", None)) from error


def report_error(error: CommandError, stream: TextIO | None = None) -> None:
    out = stream or sys.stderr
    print(f"error: {error.message}", file=out)
    if error.hint:
        print(f"  fix: {error.hint}", file=out)


def load_config(path: Path) -> SiteConfig:
    try:
        return load_site(path)
    except ConfigError as error:
        for problem in error.problems:
            print(format_problem(problem, str(path)), file=sys.stderr)
        fail(
            f"{path}: the site file has {len(error.problems)} problem(s)",
            hint=f"run `tracegate check-config {path}` after fixing them",
        )
