"""`python -m chaos.run`: the fault campaign against the simulated line (`make chaos`).

Writes the JSON report to `--report` after every trial and prints a summary; exits 1 when any
invariant was violated or a trial could not run."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from chaos.campaign import Plan, run_campaign
from chaos.report import TrialResult

KINDS = ("kill", "inflight", "device", "outage", "clock", "fsync", "disk")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="chaos.run", description=__doc__)
    defaults = Plan()
    for kind in KINDS:
        parser.add_argument(
            f"--{kind}", type=int, default=getattr(defaults, kind), metavar="N", help="trials"
        )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--report", type=Path, default=Path("var/chaos/report.json"))
    parser.add_argument("--workdir", type=Path, default=Path("var/chaos/work"))
    args = parser.parse_args(argv)
    for kind in KINDS:
        if getattr(args, kind) < 0:
            parser.error(f"--{kind} {getattr(args, kind)}: the number of trials cannot be negative")
    return args


def _progress(result: TrialResult) -> None:
    verdict = "ok" if result.passed else "FAILED"
    print(
        f"{result.number:>3} {result.kind:<8} {verdict:<6} {result.duration_s:6.1f} s  "
        f"{result.fault}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    plan = Plan(**{kind: getattr(args, kind) for kind in KINDS})
    report = asyncio.run(
        run_campaign(
            plan,
            seed=args.seed,
            workdir=args.workdir,
            report_path=args.report,
            on_trial=_progress,
        )
    )
    print(report.summary())
    print(f"report: {args.report}")
    return 0 if report.totals()["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
