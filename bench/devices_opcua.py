"""Benchmark: OPC UA values read per second, batched (one Read per group) vs one Read per node.

Both against the same in-process line PLC simulator over loopback, in the same run, through the
driver's public `read()`: the batched figure reads all `n_nodes` in one request, the baseline
reads the same nodes one request each.

Prints one JSON object. Usage: python bench/devices_opcua.py [--nodes N] [--seconds S]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import platform
import time
from collections.abc import Awaitable, Callable
from typing import Any

from drivers.opcua import OpcUaClient, OpcUaSettings
from simulators.line_plc.server import LinePlcServer, plc_node_id
from simulators.ports import free_port


async def _rate(seconds: float, step: Callable[[], Awaitable[int]]) -> float:
    values = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        values += await step()
    return values / elapsed


async def _measure(n_nodes: int, seconds: float) -> dict[str, Any]:
    plc = LinePlcServer(port=free_port(), extra_variables=n_nodes)
    async with plc:
        tags = [plc_node_id(f"Bench.{i}") for i in range(n_nodes)]
        settings = OpcUaSettings(name="bench", endpoint=plc.endpoint, request_timeout_s=10.0)
        async with OpcUaClient(settings) as client:
            await client.wait_up(10)
            await client.read(tags)

            async def batched() -> int:
                return len(await client.read(tags))

            async def single() -> int:
                for tag in tags:
                    await client.read([tag])
                return len(tags)

            batched_per_s = await _rate(seconds, batched)
            single_per_s = await _rate(seconds, single)
    return {
        "opcua_batched_reads_per_s": round(batched_per_s, 1),
        "opcua_single_reads_per_s": round(single_per_s, 1),
        "opcua_batched_vs_single": round(batched_per_s / single_per_s, 1),
        "opcua_nodes_per_batch": n_nodes,
        "opcua_seconds_each": seconds,
        "opcua_transport": "loopback opc.tcp, SecurityPolicy None, in-process asyncua server",
        "python": platform.python_version(),
    }


def measure(n_nodes: int = 100, seconds: float = 2.0) -> dict[str, Any]:
    return asyncio.run(_measure(n_nodes, seconds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--quick", action="store_true", help="20 nodes, 0.5 s each")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.quick:
        args.nodes, args.seconds = 20, 0.5
    print(json.dumps(measure(args.nodes, args.seconds)))


if __name__ == "__main__":
    main()
