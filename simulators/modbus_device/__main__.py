"""Run the Modbus device simulator alone.

    python -m simulators.modbus_device --tcp-port 5020
    python -m simulators.modbus_device --rtu /dev/ttyUSB1 --baud 19200 --silent-slave 2
    python -m simulators.modbus_device --tcp-port 5020 --delay 0.4 --garbage-slave 1
    python -m simulators.modbus_device --tcp-port 5020 --map my_device.json

Without --map it serves a checkweigher (slave 1) and a reject station (slave 2). A map file is
a JSON list of points: {"name", "slave", "table", "address", "type", "length", "byte_order",
"word_order", "initial", "behaviour", "step", "period_s"}.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path

from drivers.base import DriverError
from simulators.modbus_device.points import Point, default_points, points_from_data
from simulators.modbus_device.server import ModbusDeviceSimulator


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulators.modbus_device", description=__doc__.splitlines()[0]
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--tcp-port", type=int, help="serve Modbus TCP on 127.0.0.1:PORT")
    where.add_argument("--rtu", metavar="SERIAL_PORT", help="serve Modbus RTU on a serial port")
    parser.add_argument("--host", default="127.0.0.1", help="TCP address to bind")
    parser.add_argument("--baud", type=int, default=19200)
    parser.add_argument("--parity", choices=("N", "E", "O"), default="E")
    parser.add_argument("--map", type=Path, help="JSON register map (default: demo devices)")
    parser.add_argument("--silent-slave", type=int, action="append", default=[])
    parser.add_argument("--garbage-slave", type=int, action="append", default=[])
    parser.add_argument("--delay", type=float, default=0.0, help="answer every request late (s)")
    return parser


def load_points(path: Path | None) -> list[Point]:
    if path is None:
        return default_points()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise SystemExit(f"cannot read register map {path}: {error}") from None
    if not isinstance(data, list):
        raise SystemExit(f"register map {path}: expected a JSON list of points")
    return points_from_data(data)


async def serve(args: argparse.Namespace) -> None:
    simulator = ModbusDeviceSimulator(load_points(args.map))
    for slave in simulator.image.slaves:
        simulator.set_fault(
            slave,
            silent=slave in args.silent_slave,
            delay_s=args.delay,
            garbage=slave in args.garbage_slave,
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with simulator:
        if args.rtu:
            await simulator.start_rtu(args.rtu, baudrate=args.baud, parity=args.parity)
            where = f"rtu {args.rtu}"
        else:
            port = await simulator.start_tcp(args.host, args.tcp_port)
            where = f"tcp {args.host}:{port}"
        print(f"modbus simulator listening on {where}, slaves {simulator.image.slaves}", flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(args))
    except DriverError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
