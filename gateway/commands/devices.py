"""`tracegate devices check`: connect to every configured device and show its health."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict
from pathlib import Path

from gateway.commands.common import fail, load_config
from gateway.devices import DeviceCheck, check_devices


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("devices", help="the line devices of the site file")
    sub = parser.add_subparsers(dest="devices_command", required=True)
    check = sub.add_parser(
        "check",
        help="connect to every configured device at once and print its health",
        description="Exits 0 only when every device is up.",
    )
    check.add_argument("--config", type=Path, required=True, help="the site file")
    check.add_argument("--line", help="only the devices of this line")
    check.add_argument(
        "--timeout", type=float, default=5.0, metavar="S", help="seconds to wait for each device"
    )
    check.add_argument("--json", action="store_true", help="print one JSON object")
    check.set_defaults(run=run_check)


def run_check(args: argparse.Namespace) -> int:
    if not args.timeout > 0:
        fail(f"--timeout {args.timeout} must be positive", hint="e.g. --timeout 5")
    site = load_config(args.config)
    if not any(line.devices for line in site.lines):
        fail(
            f"{args.config} configures no devices",
            hint="add a devices: block to a line (see config/examples/demo.yaml)",
        )
    checks = asyncio.run(check_devices(site, args.timeout, line_id=args.line))
    down = [check for check in checks if not check.up]
    if args.json:
        print(json.dumps({"ok": not down, "devices": [_as_json(c) for c in checks]}, indent=2))
    else:
        for check in checks:
            print(_as_line(check))
    if down:
        names = ", ".join(f"{c.id} ({c.state.value})" for c in down)
        print(f"not up: {names}", file=sys.stderr)
        return 2
    return 0


def _as_line(check: DeviceCheck) -> str:
    latency = "" if check.latency_s is None else f" in {check.latency_s * 1000:.0f} ms"
    detail = check.detail + (f": {check.error}" if check.error else "")
    return (
        f"{check.line:<10} {check.id:<16} {check.kind:<14} {check.role:<16} "
        f"{check.state.value.upper():<9} {detail}{latency}"
    )


def _as_json(check: DeviceCheck) -> dict[str, object]:
    data = asdict(check)
    data["state"] = check.state.value
    return data
