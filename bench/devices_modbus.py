"""Benchmark: Modbus polling with the planner's merged reads vs one request per tag.

Both run in the same process against the same simulator over loopback Modbus TCP, one after
the other, with the same tag map: the baseline is one read request per tag, which is what a
driver without register merging does.

Prints one JSON object. Usage: python bench/devices_modbus.py [--tags N] [--seconds S]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import time
from collections.abc import Awaitable, Callable

from drivers.modbus import DataType, ModbusTagSource, PollSettings, Table, Tag, TcpSettings
from drivers.modbus.tagmap import plan_reads
from simulators.modbus_device import ModbusDeviceSimulator, Point

TYPES = (DataType.UINT16, DataType.FLOAT32, DataType.INT32, DataType.INT16)


def bench_points(count: int) -> list[Point]:
    """`count` tags across holding and input registers and coils, with small gaps between."""
    points, address = [], {Table.HOLDING: 0, Table.INPUT: 0, Table.COIL: 0}
    for index in range(count):
        table = (Table.HOLDING, Table.INPUT, Table.COIL)[index % 3]
        data_type = DataType.BOOL if table is Table.COIL else TYPES[index % len(TYPES)]
        tag = Tag(f"t{index:04d}", 1, table, address[table], data_type)
        address[table] = tag.end + (index % 2)
        initial = False if data_type is DataType.BOOL else index % 100
        points.append(Point(tag, initial))
    return points


async def _rate(read: Callable[[], Awaitable[object]], tags: int, seconds: float) -> float:
    await read()
    cycles, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        await read()
        cycles += 1
    return cycles * tags / elapsed


async def measure_async(tag_count: int = 120, seconds: float = 2.0) -> dict[str, object]:
    points = bench_points(tag_count)
    tags = [point.tag for point in points]
    names = [tag.name for tag in tags]
    poll = PollSettings(request_timeout_s=2.0)
    async with ModbusDeviceSimulator(points) as simulator:
        port = await simulator.start_tcp()
        async with ModbusTagSource("bench", TcpSettings("127.0.0.1", port), tags, poll) as source:
            await source.wait_connected(5)
            merged = await _rate(lambda: source.read(names), len(names), seconds)
            per_tag = await _rate(lambda: source.read_each(names), len(names), seconds)
    return {
        "modbus_merged_tags_per_s": round(merged, 1),
        "modbus_per_tag_tags_per_s": round(per_tag, 1),
        "modbus_merged_speedup": round(merged / per_tag, 2),
        "modbus_tags": len(names),
        "modbus_merged_requests_per_cycle": len(plan_reads(tags, max_gap=poll.max_gap)),
        "modbus_transport": "tcp loopback, pymodbus server in the same process",
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


def measure(tag_count: int = 120, seconds: float = 2.0) -> dict[str, object]:
    return asyncio.run(measure_async(tag_count, seconds))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tags", type=int, default=120)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.tags, args.seconds), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
