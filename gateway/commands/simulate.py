"""`tracegate simulate line`: the simulators of a line's devices, together, on their ports."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from pathlib import Path

from gateway.commands.common import fail, load_config
from gateway.simulation import LineSimulation, SimulationError, SimulationOptions


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("simulate", help="run simulated devices")
    sub = parser.add_subparsers(dest="simulate_command", required=True)
    line = sub.add_parser(
        "line",
        help="start every simulator a line's devices need, where the site file puts them",
        description=(
            "The printer simulator's printed units feed the camera simulator of the same "
            "level, so the camera renders exactly what was printed. Runs until Ctrl-C or "
            "--duration."
        ),
    )
    line.add_argument("--config", type=Path, required=True, help="the site file")
    line.add_argument("--line", help="the line to simulate (default: the only / first one)")
    line.add_argument("--rate", type=float, default=120.0, metavar="UPM", help="units per minute")
    line.add_argument(
        "--defects",
        type=float,
        default=0.0,
        metavar="FRACTION",
        help="units with a defect: half print defects (skip, smudge, wrong data), half image "
        "defects; the options below override each half",
    )
    line.add_argument(
        "--print-defects",
        type=float,
        metavar="FRACTION",
        help="units printed wrong (skip, smudge, wrong data)",
    )
    line.add_argument(
        "--camera-faults",
        type=float,
        metavar="FRACTION",
        help="units the camera loses (no frame or a black frame)",
    )
    line.add_argument(
        "--image-defects",
        type=float,
        metavar="FRACTION",
        help="frames with a picture defect (blur, rotation, …)",
    )
    line.add_argument(
        "--missed-rejects",
        default=0.0,
        type=float,
        metavar="FRACTION",
        help="gate firings that miss",
    )
    line.add_argument("--gate-distance", type=int, default=4, metavar="UNITS")
    line.add_argument("--units-per-case", type=int, default=10, metavar="N")
    line.add_argument("--cases-per-pallet", type=int, default=8, metavar="N")
    line.add_argument(
        "--no-autostart",
        dest="autostart",
        action="store_false",
        help="leave the line Stopped: the gateway resets and starts it over OPC UA",
    )
    line.add_argument(
        "--ledger",
        type=Path,
        metavar="FILE",
        help="write what happened to each unit, as JSON, on exit",
    )
    line.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    line.add_argument("--seed", type=int, help="make the defects reproducible")
    line.set_defaults(run=run_line)


def run_line(args: argparse.Namespace) -> int:
    site = load_config(args.config)
    if not site.lines:
        fail(f"{args.config} has no lines", hint="add a line with a devices: block")
    line = site.line(args.line) if args.line else site.lines[0]
    if args.duration is not None and not args.duration > 0:
        fail(f"--duration {args.duration} must be positive")
    try:
        options = SimulationOptions(
            rate_upm=args.rate,
            defects=args.defects,
            seed=args.seed,
            print_defects=args.print_defects,
            camera_faults=args.camera_faults,
            image_defects=args.image_defects,
            missed_rejects=args.missed_rejects,
            gate_distance=args.gate_distance,
            units_per_case=args.units_per_case,
            cases_per_pallet=args.cases_per_pallet,
            autostart=args.autostart,
        )
        asyncio.run(_serve(LineSimulation(line, base_dir=site.base_dir, options=options), args))
    except SimulationError as error:
        fail(error.message, hint=error.hint)
    return 0


async def _serve(simulation: LineSimulation, args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with simulation:
        print(f"simulating line {simulation.line.id} at {args.rate:g} units/min", flush=True)
        for where in simulation.listening:
            print(f"  {where.device_id:<16} {where.kind:<14} {where.role:<16} {where.address}")
        for device_id, reason in simulation.skipped:
            print(f"  {device_id:<16} not simulated: {reason}")
        print("READY (Ctrl-C stops)", flush=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), args.duration)
        if args.ledger is not None:
            simulation.write_ledger(args.ledger)
