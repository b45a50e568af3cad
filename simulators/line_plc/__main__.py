"""`python -m simulators.line_plc --port N [--rate UPM] [--security ...]`: run the line PLC alone.

Prints `READY <endpoint>` on stdout once it listens, then serves until interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path

from simulators.line_plc.certs import make_self_signed
from simulators.line_plc.line import LineConfig
from simulators.line_plc.packml import Command
from simulators.line_plc.server import (
    APPLICATION_URI,
    ENDPOINT_POLICIES,
    LinePlcServer,
    PlcSecurity,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m simulators.line_plc", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rate", type=float, default=120.0, help="units per minute")
    parser.add_argument("--gate-distance", type=int, default=4, help="unit pitches to the gate")
    parser.add_argument("--units-per-case", type=int, default=10)
    parser.add_argument("--cases-per-pallet", type=int, default=8)
    parser.add_argument("--missed-rejects", type=float, default=0.0, help="fraction, 0..1")
    parser.add_argument(
        "--no-fail-safe",
        dest="fail_safe",
        action="store_false",
        help="let units without a verdict pass (default: only ACCEPTed units pass the gate)",
    )
    parser.add_argument(
        "--security",
        default="None",
        help=f"comma-separated endpoints: {', '.join(ENDPOINT_POLICIES)}",
    )
    parser.add_argument(
        "--cert-dir",
        type=Path,
        help="holds server.der / server.key.pem; a self-signed pair is made there if missing",
    )
    parser.add_argument("--user", action="append", default=[], help="NAME:PASSWORD (repeatable)")
    parser.add_argument("--start", action="store_true", help="Reset and Start after launch")
    return parser


def security_from(args: argparse.Namespace) -> PlcSecurity:
    endpoints = tuple(e.strip() for e in args.security.split(",") if e.strip())
    unknown = [e for e in endpoints if e not in ENDPOINT_POLICIES]
    if unknown or not endpoints:
        raise SystemExit(
            f"--security {args.security!r}: unknown {unknown or 'empty'}; "
            f"choose from {', '.join(ENDPOINT_POLICIES)}"
        )
    users = {}
    for entry in args.user:
        name, sep, password = entry.partition(":")
        if not sep or not name:
            raise SystemExit(f"--user {entry!r}: expected NAME:PASSWORD")
        users[name] = password
    cert = key = None
    if any(e != "None" for e in endpoints):
        if args.cert_dir is None:
            raise SystemExit("secured endpoints need --cert-dir (the certificate is made there)")
        cert, key = args.cert_dir / "server.der", args.cert_dir / "server.key.pem"
        if not cert.exists() or not key.exists():
            pair = make_self_signed(args.cert_dir, "server", application_uri=APPLICATION_URI)
            cert, key = pair.certificate, pair.private_key
    try:
        return PlcSecurity(endpoints=endpoints, certificate=cert, private_key=key, users=users)
    except ValueError as error:
        raise SystemExit(f"--security: {error}") from error


async def serve(args: argparse.Namespace) -> None:
    try:
        line = LineConfig(
            rate_upm=args.rate,
            gate_distance=args.gate_distance,
            units_per_case=args.units_per_case,
            cases_per_pallet=args.cases_per_pallet,
            missed_reject_rate=args.missed_rejects,
            fail_safe=args.fail_safe,
        )
    except ValueError as error:
        raise SystemExit(str(error)) from error
    plc = LinePlcServer(host=args.host, port=args.port, line=line, security=security_from(args))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with plc:
        if args.start:
            plc.command(Command.RESET)
        print(f"READY {plc.endpoint}", flush=True)
        while not stop.is_set():
            if args.start and plc.machine.state.name == "IDLE":
                plc.command(Command.START)
                args.start = False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.05)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(serve(build_parser().parse_args(argv)))


if __name__ == "__main__":
    main()
