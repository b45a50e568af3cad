"""`tracegate check-config FILE`: every problem of a site file, located and explained."""

from __future__ import annotations

import argparse
from pathlib import Path

from config import check_site_file, format_problem


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "check-config",
        help="check a site file: every error with its location and a fix hint",
        description="Check a site file. Exit 0 when it is valid (warnings allowed), 1 otherwise.",
    )
    parser.add_argument("file", type=Path, help="the site YAML file")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    report = check_site_file(args.file)
    for problem in report.problems:
        print(format_problem(problem, str(args.file)))
    errors, warnings = len(report.errors), len(report.warnings)
    if errors:
        print(f"{args.file}: {errors} error(s), {warnings} warning(s)")
        return 1
    print(f"{args.file}: valid ({warnings} warning(s))")
    return 0
