"""`tracegate doctor --config SITE [--json]`: self-check and fault diagnosis.

Exit 0 when every item is ok, 1 with warnings, 2 with a failure.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gateway.commands.common import fail
from gateway.doctor import DoctorOptions, Status, Verdict, exit_code, run_doctor
from gateway.doctor.context import MB


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "doctor",
        help="check the configuration, database, chains, disk, clock, certificate, devices, outbox",
        description=(
            "Read-only self-check: one verdict per item (ok, warn, fail; skip when what it needs "
            "failed). Exits 0 when all are ok, 1 with warnings, 2 with a failure."
        ),
    )
    parser.add_argument("--config", type=Path, required=True, help="the site file")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--last-batches", type=int, metavar="N", help="verify only the N most recent journals"
    )
    parser.add_argument("--disk-warn-percent", type=float, default=10.0, metavar="P")
    parser.add_argument("--disk-fail-percent", type=float, default=2.0, metavar="P")
    parser.add_argument("--disk-fail-mb", type=float, default=500.0, metavar="MB")
    parser.add_argument("--certificate-warn-days", type=int, default=30, metavar="D")
    parser.add_argument(
        "--device-timeout", type=float, default=3.0, metavar="S", help="seconds per device"
    )
    parser.add_argument(
        "--outbox-max-age",
        type=float,
        default=3600.0,
        metavar="S",
        help="warn when a message has waited longer (seconds)",
    )
    parser.set_defaults(run=run)


def options_from(args: argparse.Namespace) -> DoctorOptions:
    if args.last_batches is not None and args.last_batches < 1:
        fail(f"--last-batches {args.last_batches} must be 1 or more", hint="e.g. --last-batches 10")
    if not 0 <= args.disk_fail_percent <= args.disk_warn_percent <= 100:
        fail(
            f"disk thresholds {args.disk_fail_percent} % (fail) and {args.disk_warn_percent} % "
            "(warn) are not 0 <= fail <= warn <= 100",
            hint="e.g. --disk-fail-percent 2 --disk-warn-percent 10",
        )
    for name in ("disk_fail_mb", "device_timeout", "outbox_max_age", "certificate_warn_days"):
        if getattr(args, name) < 0 or (name == "device_timeout" and args.device_timeout == 0):
            flag = "--" + name.replace("_", "-")
            fail(f"{flag} {getattr(args, name)} is out of range", hint=f"give a positive {flag}")
    return DoctorOptions(
        last_batches=args.last_batches,
        disk_warn_percent=args.disk_warn_percent,
        disk_fail_percent=args.disk_fail_percent,
        disk_fail_bytes=int(args.disk_fail_mb * MB),
        certificate_warn_days=args.certificate_warn_days,
        device_timeout_s=args.device_timeout,
        outbox_max_age_s=args.outbox_max_age,
    )


def run(args: argparse.Namespace) -> int:
    verdicts = run_doctor(args.config, options_from(args))
    code = exit_code(verdicts)
    if args.json:
        data = {"exit_code": code, "verdicts": [v.to_dict() for v in verdicts]}
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        for verdict in verdicts:
            print(as_text(verdict))
        print(SUMMARY[code])
    return code


SUMMARY = {0: "all ok", 1: "warnings (exit 1)", 2: "FAILURES (exit 2)"}


def as_text(verdict: Verdict) -> str:
    label = verdict.status.value.upper() if verdict.status is not Status.OK else "ok"
    lines = [f"{label:<5} {verdict.item:<15} {verdict.what}"]
    if verdict.where:
        lines.append(f"{'':<22}where: {verdict.where}")
    if verdict.fix:
        lines.append(f"{'':<22}fix: {verdict.fix}")
    return "\n".join(lines)
