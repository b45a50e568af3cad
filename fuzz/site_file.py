"""Harness for the config loader: any site file text gives a report (problems with their lines),
never an exception, and a file with an error never gives a config."""

from __future__ import annotations

from config.loader import check_site_text
from fuzz.bytes_input import text_of


def fuzz_config_loader(data: bytes) -> None:
    report = check_site_text(text_of(data))
    if any(problem.is_error for problem in report.problems):
        assert report.config is None
    for problem in report.problems:
        assert problem.message, problem
